// Polynomial score matching: the moment-based A and b against a brute-force per-sample
// computation with finite-difference derivatives, poly:2 = the Gaussian MLE, the sandwich's
// Hessian = A, and the degree-4 fit of Old Faithful is bimodal and normalisable.
#include <gtest/gtest.h>

#include <cmath>

#include "scorematch/estimators/gaussian_sm.hpp"
#include "scorematch/estimators/polynomial_sm.hpp"
#include "scorematch/estimators/sandwich.hpp"
#include "scorematch/models/polynomial_model.hpp"
#include "scorematch/models/targets.hpp"
#include "test_data.hpp"

using namespace scorematch;
using scorematch::testing::faithful;

namespace {
// T_α(z) = Π z_j^α_j, written independently of MonomialBasis.
double monomial(const Exponent& a, const Vector& z) {
  double v = 1;
  for (Index j = 0; j < z.size(); ++j) v *= std::pow(z[j], a[j]);
  return v;
}

// A = mean_i Σ_j ∂_jT ∂_jTᵀ and b = mean_i Σ_j ∂_j²T with finite-difference derivatives.
QuadraticObjective brute_force(const std::vector<Exponent>& exps, const Matrix& z) {
  const Index p = static_cast<Index>(exps.size()), d = z.cols();
  QuadraticObjective o{Matrix::Zero(p, p), Vector::Zero(p)};
  const double h = 1e-4;
  for (Index r = 0; r < z.rows(); ++r) {
    const Vector zr = z.row(r).transpose();
    Matrix grad(d, p);
    for (Index m = 0; m < p; ++m) {
      const Exponent& a = exps[static_cast<std::size_t>(m)];
      for (Index j = 0; j < d; ++j) {
        Vector up = zr, down = zr;
        up[j] += h;
        down[j] -= h;
        grad(j, m) = (monomial(a, up) - monomial(a, down)) / (2 * h);
        o.b[m] += (monomial(a, up) - 2 * monomial(a, zr) + monomial(a, down)) / (h * h);
      }
    }
    o.A += grad.transpose() * grad;
  }
  o.A /= static_cast<double>(z.rows());
  o.b /= static_cast<double>(z.rows());
  return o;
}

struct PolyFit {
  MonomialBasis basis;
  Vector theta, shift, scale;
  QuadraticObjective objective;
};

PolyFit fit_poly(const Matrix& x, int degree) {
  const Index d = x.cols();
  const Vector shift = x.colwise().mean().transpose();
  const Vector scale =
      ((x.rowwise() - shift.transpose()).array().square().colwise().mean().sqrt()).transpose();
  MonomialBasis basis = MonomialBasis::total_degree(d, degree);
  const MomentTable table(d, 2 * degree - 2);
  const QuadraticObjective obj =
      assemble_polynomial_objective(basis, table, accumulate_moments(x, shift, scale, table));
  Vector theta = solve_quadratic_objective(obj, 0.0, Vector::Ones(basis.size()));
  return {std::move(basis), theta, shift, scale, obj};
}
}  // namespace

TEST(PolynomialSM, MomentAssemblyMatchesBruteForce) {
  for (auto [d, degree] : {std::pair<Index, int>{2, 4}, {3, 3}}) {
    const auto target = make_target("gmm", d);
    const Matrix z = draw_rows(*target, 3, {0, 300}) / 3.0;
    const MonomialBasis basis = MonomialBasis::total_degree(d, degree);
    const MomentTable table(d, 2 * degree - 2);
    const QuadraticObjective fast = assemble_polynomial_objective(
        basis, table, accumulate_moments(z, Vector::Zero(d), Vector::Ones(d), table));
    const QuadraticObjective slow = brute_force(basis.exponents(), z);
    EXPECT_LT((fast.A - slow.A).cwiseAbs().maxCoeff(), 1e-6 * slow.A.cwiseAbs().maxCoeff()) << d;
    EXPECT_LT((fast.b - slow.b).cwiseAbs().maxCoeff(), 1e-5 * slow.b.cwiseAbs().maxCoeff()) << d;
  }
}

TEST(PolynomialSM, SandwichHessianEqualsTheMomentMatrix) {
  const Matrix x = faithful();
  const PolyFit f = fit_poly(x, 4);
  const Vector zero = Vector::Zero(f.basis.size());
  const SandwichStats s = accumulate_sandwich(x, f.shift, f.scale, f.basis, f.theta, zero);
  EXPECT_LT((s.hessian_sum / s.count - f.objective.A).cwiseAbs().maxCoeff(),
            1e-10 * f.objective.A.cwiseAbs().maxCoeff());
  // θ̂ is a stationary point: the mean per-sample gradient vanishes.
  EXPECT_LT((s.gradient_sum / s.count).cwiseAbs().maxCoeff(), 1e-9);
}

TEST(PolynomialSM, DegreeTwoEqualsTheGaussianMle) {
  const auto target = make_target("gaussian", 3);
  const Matrix x = draw_rows(*target, 8, {0, 5000});
  const PolyFit f = fit_poly(x, 2);
  // log p = Σ θ_α z^α; the precision in z is −∂²/∂z², in x it is D⁻¹ P_z D⁻¹ (D = diag(scale)).
  Matrix pz = Matrix::Zero(3, 3);
  for (Index m = 0; m < f.basis.size(); ++m) {
    const Exponent& e = f.basis.exponents()[static_cast<std::size_t>(m)];
    std::vector<Index> vars;
    for (Index j = 0; j < 3; ++j)
      for (int k = 0; k < e[j]; ++k) vars.push_back(j);
    if (vars.size() != 2) continue;
    if (vars[0] == vars[1])
      pz(vars[0], vars[0]) = -2 * f.theta[m];
    else
      pz(vars[0], vars[1]) = pz(vars[1], vars[0]) = -f.theta[m];
  }
  const Matrix px = f.scale.cwiseInverse().asDiagonal() * pz * f.scale.cwiseInverse().asDiagonal();
  const Vector ref = x.row(0).transpose();
  const GaussianFit g = solve_gaussian_sm(accumulate_gaussian_stats(x, ref), ref, 0.0, {});
  EXPECT_LT((px - g.precision).cwiseAbs().maxCoeff(), 1e-9 * g.precision.cwiseAbs().maxCoeff());
}

TEST(PolynomialSM, FaithfulDegreeFourIsBimodalAndNormalisable) {
  const Matrix x = faithful();
  const PolyFit f = fit_poly(x, 4);
  const PolynomialModel model(f.basis, f.theta, f.shift, f.scale);
  EXPECT_TRUE(model.check_leading_form().normalisable);
  // Strict local maxima of log p on a grid over the data range (eruptions 1.6–5.1 min, waiting
  // 43–96 min).
  const Index na = 121, nb = 121;
  Matrix grid(na * nb, 2);
  for (Index i = 0; i < na; ++i)
    for (Index j = 0; j < nb; ++j)
      grid.row(i * nb + j) << 1.0 + 5.0 * static_cast<double>(i) / (na - 1),
          35.0 + 70.0 * static_cast<double>(j) / (nb - 1);
  const Vector log_p = -model.energy(grid);
  std::vector<Vector> maxima;
  for (Index i = 1; i + 1 < na; ++i)
    for (Index j = 1; j + 1 < nb; ++j) {
      bool peak = true;
      for (Index di = -1; di <= 1; ++di)
        for (Index dj = -1; dj <= 1; ++dj)
          if ((di || dj) && log_p[(i + di) * nb + j + dj] >= log_p[i * nb + j]) peak = false;
      if (peak) maxima.push_back(grid.row(i * nb + j).transpose());
    }
  ASSERT_EQ(maxima.size(), 2u);
  std::sort(maxima.begin(), maxima.end(),
            [](const Vector& a, const Vector& b) { return a[0] < b[0]; });
  // The clusters of short eruptions/short waits and long eruptions/long waits.
  EXPECT_NEAR(maxima[0][0], 2.0, 0.4);
  EXPECT_NEAR(maxima[0][1], 54.0, 5.0);
  EXPECT_NEAR(maxima[1][0], 4.4, 0.4);
  EXPECT_NEAR(maxima[1][1], 80.0, 5.0);
}
