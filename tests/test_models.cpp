// Models' hand-written derivatives against finite differences: monomial basis, Gaussian and
// polynomial models (score = −∇energy, divergence = ∇·score), with standardisation.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "fd.hpp"
#include "scorematch/core/random_stream.hpp"
#include "scorematch/models/gaussian_model.hpp"
#include "scorematch/models/polynomial_model.hpp"

using namespace scorematch;
using scorematch::testing::fd_divergence;
using scorematch::testing::fd_gradient;

namespace {
Vector random_vector(Index d, std::uint64_t stream, double scale = 1.0) {
  RandomStream rng(42, stream);
  Vector v(d);
  for (Index i = 0; i < d; ++i) v[i] = scale * rng.normal();
  return v;
}
Matrix row(const Vector& x) {
  return x.transpose();
}
}  // namespace

TEST(MonomialBasis, DerivativesMatchFiniteDifferences) {
  const MonomialBasis basis = MonomialBasis::total_degree(3, 4);
  EXPECT_EQ(basis.size(), 34);  // C(3+4, 4) − 1
  const Vector weight(Vector::Ones(3));
  for (std::uint64_t trial = 0; trial < 5; ++trial) {
    const Vector z = random_vector(3, trial);
    Vector value, lap;
    Matrix jac;
    basis.evaluate(z.data(), weight, value, jac, lap);
    for (Index m = 0; m < basis.size(); ++m) {
      auto t = [&](const Vector& y) {
        Vector v, l;
        Matrix j;
        basis.evaluate(y.data(), weight, v, j, l);
        return v[m];
      };
      auto grad_t = [&](const Vector& y) {
        Vector v, l;
        Matrix j;
        basis.evaluate(y.data(), weight, v, j, l);
        return Vector(j.col(m));
      };
      EXPECT_NEAR((fd_gradient(t, z) - jac.col(m)).norm(), 0.0, 1e-7 * (1 + jac.col(m).norm()));
      EXPECT_NEAR(fd_divergence(grad_t, z), lap[m], 1e-6 * (1 + std::abs(lap[m])));
    }
  }
}

TEST(GaussianModel, ScoreDivergenceAndNormalisedEnergy) {
  const Index d = 4;
  Matrix a(d, d);
  for (Index j = 0; j < d; ++j)
    a.row(j) = random_vector(d, 100 + static_cast<std::uint64_t>(j)).transpose();
  const Matrix precision = a * a.transpose() + Matrix::Identity(d, d);
  const GaussianModel model(random_vector(d, 1), precision);
  const Vector x = random_vector(d, 2);
  auto energy = [&](const Vector& y) { return model.energy(row(y))[0]; };
  auto score = [&](const Vector& y) { return Vector(model.score(row(y)).row(0).transpose()); };
  EXPECT_NEAR((fd_gradient(energy, x) + score(x)).norm(), 0.0, 1e-7);
  EXPECT_NEAR(fd_divergence(score, x), model.score_divergence(row(x))[0], 1e-7);
  const double log_det = std::log(precision.determinant());
  EXPECT_NEAR(model.energy(row(model.mean()))[0],
              0.5 * d * std::log(2 * std::numbers::pi) - 0.5 * log_det, 1e-12);
}

TEST(PolynomialModel, ScoreAndDivergenceInDataUnitsMatchFiniteDifferences) {
  const Index d = 3;
  const MonomialBasis basis = MonomialBasis::total_degree(d, 4);
  Vector scale(d);
  scale << 0.5, 2.0, 7.0;
  const PolynomialModel model(basis, random_vector(basis.size(), 3, 0.3), random_vector(d, 4),
                              scale);
  for (std::uint64_t trial = 0; trial < 5; ++trial) {
    const Vector x = random_vector(d, 10 + trial, 2.0);
    auto energy = [&](const Vector& y) { return model.energy(row(y))[0]; };
    auto score = [&](const Vector& y) { return Vector(model.score(row(y)).row(0).transpose()); };
    const Vector s = score(x);
    EXPECT_NEAR((fd_gradient(energy, x) + s).norm(), 0.0, 1e-6 * (1 + s.norm()));
    const double div = model.score_divergence(row(x))[0];
    EXPECT_NEAR(fd_divergence(score, x), div, 1e-5 * (1 + std::abs(div)));
  }
}

TEST(PolynomialModel, LeadingFormCheckSeparatesNormalisableFromNot) {
  // log p = −z1⁴ − z2⁴ (normalisable) versus +z1⁴ − z2⁴ (not).
  const MonomialBasis basis = MonomialBasis::total_degree(2, 4);
  Vector good = Vector::Zero(basis.size()), bad = Vector::Zero(basis.size());
  for (Index m = 0; m < basis.size(); ++m) {
    const Exponent& e = basis.exponents()[static_cast<std::size_t>(m)];
    if (e == Exponent{4, 0}) {
      good[m] = -1;
      bad[m] = 1;
    }
    if (e == Exponent{0, 4}) good[m] = bad[m] = -1;
  }
  const Vector zero = Vector::Zero(2), one = Vector::Ones(2);
  EXPECT_TRUE(PolynomialModel(basis, good, zero, one).check_leading_form().normalisable);
  const auto check = PolynomialModel(basis, bad, zero, one).check_leading_form();
  EXPECT_FALSE(check.normalisable);
  EXPECT_NEAR(check.max_value, 1.0, 1e-12);  // at u = ±e1
}
