// Gaussian score matching: equals the MLE on Old Faithful to 1e-10, the threaded statistics equal
// the plain loop, the ridge solves its stationarity equation, singular data are named, and the
// sandwich standard errors match the Monte-Carlo spread of the estimator.
#include <gtest/gtest.h>

#include <cmath>

#include "scorematch/core/error.hpp"
#include "scorematch/estimators/gaussian_natural.hpp"
#include "scorematch/estimators/gaussian_sm.hpp"
#include "scorematch/estimators/sandwich.hpp"
#include "scorematch/models/targets.hpp"
#include "test_data.hpp"

using namespace scorematch;
using scorematch::testing::faithful;

namespace {
GaussianFit fit(const Matrix& x, double ridge = 0.0) {
  const Vector ref = x.row(0).transpose();
  return solve_gaussian_sm(accumulate_gaussian_stats(x, ref), ref, ridge, {});
}

double max_relative(const Matrix& a, const Matrix& b) {
  return (a - b).cwiseAbs().maxCoeff() / b.cwiseAbs().maxCoeff();
}

// Standard errors (mean, precision) by the sandwich, single process.
GaussianStandardErrors sandwich_se(const Matrix& x, const GaussianFit& f) {
  const Vector ref = x.row(0).transpose();
  const GaussianNatural nat = gaussian_natural(f, ref);
  const Vector zero = Vector::Zero(nat.basis.size());
  const SandwichStats s =
      accumulate_sandwich(x, ref, Vector::Ones(x.cols()), nat.basis, nat.theta, zero);
  return gaussian_standard_errors(nat, sandwich_covariance(s, zero), f, ref);
}
}  // namespace

TEST(GaussianSM, EqualsTheMaximumLikelihoodEstimateOnFaithful) {
  const Matrix x = faithful();
  // Independent MLE: two-pass mean and 1/n covariance in long double, then the inverse.
  const Index n = x.rows(), d = x.cols();
  std::vector<long double> mean(d, 0.0L);
  for (Index r = 0; r < n; ++r)
    for (Index j = 0; j < d; ++j) mean[j] += x(r, j);
  for (auto& m : mean) m /= n;
  Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic> cov =
      Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>::Zero(d, d);
  for (Index r = 0; r < n; ++r)
    for (Index j = 0; j < d; ++j)
      for (Index k = 0; k < d; ++k) cov(j, k) += (x(r, j) - mean[j]) * (x(r, k) - mean[k]);
  cov /= static_cast<long double>(n);
  const Matrix mle_precision = cov.inverse().cast<double>();
  Vector mle_mean(d);
  for (Index j = 0; j < d; ++j) mle_mean[j] = static_cast<double>(mean[j]);

  const GaussianFit f = fit(x);
  EXPECT_LT(max_relative(f.mean, mle_mean), 1e-10);
  EXPECT_LT(max_relative(f.precision, mle_precision), 1e-10);
}

TEST(GaussianSM, ThreadedStatisticsEqualThePlainLoop) {
  const auto target = make_target("gaussian", 5);
  const Matrix x = draw_rows(*target, 1, {0, 20'000});
  const Vector ref = x.row(0).transpose();
  const GaussianStats fast = accumulate_gaussian_stats(x, ref);
  const GaussianStats plain = accumulate_gaussian_stats_reference(x, ref);
  EXPECT_EQ(fast.count, plain.count);
  EXPECT_LT(max_relative(fast.sum, plain.sum), 1e-12);
  EXPECT_LT(max_relative(fast.cross, plain.cross), 1e-12);
}

TEST(GaussianSM, RidgeSolvesItsStationarityEquation) {
  // ½(PS + SP) + λP = I at the minimum of J(P) + ½λ‖P‖²_F.
  const Matrix x = faithful();
  const double lambda = 0.3;
  const GaussianFit f = fit(x, lambda);
  const Matrix p = f.precision, s = f.covariance;
  const Matrix residual = 0.5 * (p * s + s * p) + lambda * p - Matrix::Identity(2, 2);
  EXPECT_LT(residual.cwiseAbs().maxCoeff(), 1e-12);
}

TEST(GaussianSM, ConstantColumnIsNamedAndRidgeIsSuggested) {
  Matrix x = faithful();
  x.col(1).setConstant(70.0);
  const Vector ref = x.row(0).transpose();
  try {
    solve_gaussian_sm(accumulate_gaussian_stats(x, ref), ref, 0.0, {"eruptions", "waiting"});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "column 2 'waiting' is constant (variance 0): the precision matrix does not "
                 "exist; drop the column or add a ridge penalty, e.g. ridge 1e-6");
  }
  EXPECT_NO_THROW(fit(x, 1e-6));
}

TEST(GaussianSM, LinearlyDependentColumnsAreReportedAsSingular) {
  Matrix x(272, 3);
  x.leftCols(2) = faithful();
  x.col(2) = 2 * x.col(0) - x.col(1);
  EXPECT_THROW(fit(x), Error);
}

TEST(GaussianSM, SandwichStandardErrorOfTheMeanIsSdOverRootN) {
  // The influence function of μ̂ = x̄ is x − x̄, so the sandwich gives exactly S/n.
  const Matrix x = faithful();
  const GaussianFit f = fit(x);
  const GaussianStandardErrors se = sandwich_se(x, f);
  for (Index j = 0; j < 2; ++j)
    EXPECT_NEAR(se.mean[j], std::sqrt(f.covariance(j, j) / 272.0), 1e-8 * se.mean[j]);
}

TEST(GaussianSM, SandwichStandardErrorsMatchTheMonteCarloSpread) {
  // R replicate data sets of n rows: the sd of P̂_jk over replicates against the mean reported
  // s.e. The sd of a sample sd from R draws is ≈ 1/sqrt(2R) relative (≈ 4.1% for R = 300); we allow
  // 5 of those plus 3% for the O(1/n) bias of the asymptotic formula.
  const auto target = make_target("gaussian", 3);
  const int replicates = 300;
  const Index n = 1000;
  Matrix estimates(replicates, 9), reported(replicates, 9);
  for (int r = 0; r < replicates; ++r) {
    const Matrix x = draw_rows(*target, 100 + static_cast<std::uint64_t>(r), {0, n});
    const GaussianFit f = fit(x);
    const GaussianStandardErrors se = sandwich_se(x, f);
    estimates.row(r) = Eigen::Map<const Eigen::RowVectorXd>(f.precision.data(), 9);
    reported.row(r) = Eigen::Map<const Eigen::RowVectorXd>(se.precision.data(), 9);
  }
  const double tolerance = 5.0 / std::sqrt(2.0 * replicates) + 0.03;
  for (Index k = 0; k < 9; ++k) {
    const Eigen::VectorXd col = estimates.col(k);
    const double sd = std::sqrt((col.array() - col.mean()).square().sum() / (replicates - 1));
    EXPECT_NEAR(reported.col(k).mean() / sd, 1.0, tolerance) << "precision entry " << k;
  }
}
