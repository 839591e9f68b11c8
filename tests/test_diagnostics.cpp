// Convergence diagnostics and Stein discrepancies: R-hat ≈ 1 for well-mixed chains and > 1.1 for a
// shifted chain; ESS of AR(1) series equals N(1 − ρ)/(1 + ρ) within 10%; FFT autocovariance equals
// the direct sum; the IMQ Stein kernel matches a finite-difference construction; KSD shrinks with
// more exact draws and is larger for a biased sampler.
#include <gtest/gtest.h>

#include <cmath>

#include "sampling_testing.hpp"
#include "scorematch/diagnostics/convergence.hpp"
#include "scorematch/diagnostics/stein.hpp"
#include "scorematch/models/targets.hpp"

using namespace scorematch;
using namespace scorematch::diagnostics;

namespace {
Matrix ar1_chains(Index chains, Index n, double rho, std::uint64_t seed) {
  Matrix c(chains, n);
  for (Index m = 0; m < chains; ++m) {
    RandomStream rng(seed, static_cast<std::uint64_t>(m));
    double x = rng.normal();  // stationary start (unit marginal variance)
    for (Index t = 0; t < n; ++t) {
      c(m, t) = x;
      x = rho * x + std::sqrt(1 - rho * rho) * rng.normal();
    }
  }
  return c;
}

double ksd(const Matrix& x, const ScoreModel& model) {
  const Matrix s = model.score(x);
  const double n = static_cast<double>(x.rows());
  return std::sqrt(imq_stein_sum(x, s, {0, x.rows()}) / (n * n));
}
}  // namespace

TEST(Diagnostics, AutocovarianceByFftEqualsDirectSum) {
  const Matrix c = ar1_chains(1, 300, 0.7, 1);
  const Vector x = c.row(0).transpose();
  const Vector fast = autocovariance(x);
  const double mean = x.mean();
  for (Index t : {0, 1, 5, 50, 299}) {
    double direct = 0;
    for (Index i = 0; i + t < x.size(); ++i) direct += (x[i] - mean) * (x[i + t] - mean);
    EXPECT_NEAR(fast[t], direct / 300.0, 1e-12);
  }
}

TEST(Diagnostics, RhatNearOneWhenMixedAndLargeWhenOneChainIsShifted) {
  Matrix c = ar1_chains(4, 2000, 0.5, 2);
  const ConvergenceSummary good = summarize(c);
  EXPECT_LT(good.rhat, 1.01);
  EXPECT_GT(good.rhat, 0.99);
  c.row(3).array() += 1.5;  // one chain stuck elsewhere
  EXPECT_GT(summarize(c).rhat, 1.1);
}

// 4 chains × 25 000 draws; the ESS estimate's own relative spread is a few percent here.
TEST(Diagnostics, EssOfAr1MatchesTheory) {
  for (double rho : {0.0, 0.5, 0.9}) {
    const Matrix c = ar1_chains(4, 25000, rho, 7);
    const double exact = static_cast<double>(c.size()) * (1 - rho) / (1 + rho);
    EXPECT_NEAR(effective_sample_size(c) / exact, 1.0, 0.10) << "rho " << rho;
    EXPECT_NEAR(summarize(c).ess_bulk / exact, 1.0, 0.10) << "rho " << rho;
  }
}

TEST(Diagnostics, NormalQuantileInvertsTheCdf) {
  for (double p : {1e-10, 0.001, 0.02425, 0.3, 0.5, 0.9, 0.999999}) {
    const double x = normal_quantile(p);
    EXPECT_NEAR(0.5 * std::erfc(-x / std::sqrt(2.0)), p, 1e-14 + 1e-12 * p);
  }
}

// u(x, y) = s_xᵀs_y k + s_xᵀ∇_y k + s_yᵀ∇_x k + tr ∇_x∇_y k with the derivatives of k by central
// differences, against the closed form summed by imq_stein_sum.
TEST(Diagnostics, SteinKernelMatchesFiniteDifferences) {
  const Index d = 3;
  Matrix x(2, d), s(2, d);
  x << 0.3, -0.2, 1.0, -0.5, 0.7, 0.1;
  s << 1.0, 0.5, -0.3, -0.2, 0.4, 0.9;
  auto k = [](const Vector& a, const Vector& b) {
    return 1.0 / std::sqrt(1.0 + (a - b).squaredNorm());
  };
  const Vector a = x.row(0).transpose(), b = x.row(1).transpose();
  const Vector sa = s.row(0).transpose(), sb = s.row(1).transpose();
  const double h = 1e-4;
  double u = sa.dot(sb) * k(a, b);
  for (Index i = 0; i < d; ++i) {
    Vector e = Vector::Zero(d);
    e[i] = h;
    u += sa[i] * (k(a, b + e) - k(a, b - e)) / (2 * h);
    u += sb[i] * (k(a + e, b) - k(a - e, b)) / (2 * h);
    u += (k(a + e, b + e) - k(a + e, b - e) - k(a - e, b + e) + k(a - e, b - e)) / (4 * h * h);
  }
  auto diag = [&](Index r) {  // u(x_r, x_r) = ‖s_r‖² + d (q = 1, r = 0)
    return s.row(r).squaredNorm() + static_cast<double>(d);
  };
  const double total = imq_stein_sum(x, s, {0, 2});
  EXPECT_NEAR(total, diag(0) + diag(1) + 2 * u, 1e-6);
}

TEST(Diagnostics, KsdShrinksWithExactDrawsAndFlagsABiasedSampler) {
  const auto target = make_target("gmm", 2);
  const double k200 = ksd(draw_rows(*target, 1, {0, 200}), *target);
  const double k800 = ksd(draw_rows(*target, 1, {0, 800}), *target);
  const double k3200 = ksd(draw_rows(*target, 1, {0, 3200}), *target);
  // E KSD² = O(1/n): a 4× larger sample roughly halves the KSD.
  EXPECT_LT(k800, 0.8 * k200);
  EXPECT_LT(k3200, 0.8 * k800);
  // ULA with a large step is over-dispersed: its KSD is well above exact draws of the same size.
  SamplerSettings s;
  s.name = "ula";
  s.step_size = 0.3;
  s.steps = 1;
  s.warmup = 500;
  s.seed = 4;
  const Matrix ula = scorematch::testing::run_chains(s, {target.get(), nullptr}, 800);
  EXPECT_GT(ksd(ula, *target), 2 * k800);
}

TEST(Diagnostics, EnergyDistanceSeparatesShiftedSamples) {
  const auto target = make_target("gaussian", 2);
  const Matrix a = draw_rows(*target, 1, {0, 500}), b = draw_rows(*target, 2, {0, 500});
  const Matrix shifted = b.array() + 1.0;
  auto energy = [](const Matrix& x, const Matrix& y) {
    const double nx = static_cast<double>(x.rows()), ny = static_cast<double>(y.rows());
    return 2 * pair_sum(x, y, {0, x.rows()}, PairFunction::distance) / (nx * ny) -
           pair_sum(x, x, {0, x.rows()}, PairFunction::distance) / (nx * nx) -
           pair_sum(y, y, {0, y.rows()}, PairFunction::distance) / (ny * ny);
  };
  EXPECT_LT(energy(a, b), 0.02);
  EXPECT_GT(energy(a, shifted), 0.3);
}
