// Analytic targets: exact scores and divergences against finite differences, normalisation of the
// density on a grid (2-D), and sample moments against the exact ones (5 standard errors).
#include <gtest/gtest.h>

#include <cmath>

#include "fd.hpp"
#include "scorematch/models/targets.hpp"

using namespace scorematch;
using scorematch::testing::fd_divergence;
using scorematch::testing::fd_gradient;

class TargetTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TargetTest, ScoreIsMinusEnergyGradientAndDivergenceMatches) {
  const auto target = make_target(GetParam(), 3);
  const Matrix x = draw_rows(*target, 5, {0, 20});
  for (Index r = 0; r < x.rows(); ++r) {
    const Vector xr = x.row(r).transpose();
    auto energy = [&](const Vector& y) { return target->energy(Matrix(y.transpose()))[0]; };
    auto score = [&](const Vector& y) {
      return Vector(target->score(Matrix(y.transpose())).row(0).transpose());
    };
    const Vector s = score(xr);
    EXPECT_NEAR((fd_gradient(energy, xr, 1e-6) + s).norm(), 0.0, 1e-5 * (1 + s.norm()))
        << "row " << r;
    const double div = target->score_divergence(Matrix(xr.transpose()))[0];
    EXPECT_NEAR(fd_divergence(score, xr, 1e-6), div, 1e-4 * (1 + std::abs(div))) << "row " << r;
  }
}

TEST_P(TargetTest, TwoDimensionalDensityIntegratesToOne) {
  const auto target = make_target(GetParam(), 2);
  const double h = 0.01;
  double mass = 0;
  for (double a = -8; a < 8; a += h) {
    Matrix column(2400, 2);
    for (Index i = 0; i < 2400; ++i) column.row(i) << a, -6 + static_cast<double>(i) * h;
    mass += (-target->energy(column)).array().exp().sum() * h * h;
  }
  EXPECT_NEAR(mass, 1.0, 1e-3);  // the grid [-8,8]×[-6,18] holds all but ~1e-5 of every target
}

INSTANTIATE_TEST_SUITE_P(All, TargetTest, ::testing::Values("gaussian", "gmm", "banana", "rings"));

TEST(Targets, GaussianSampleMomentsMatch) {
  const auto target = make_target("gaussian", 3);
  const Index n = 200'000;
  const Matrix x = draw_rows(*target, 11, {0, n});
  const Vector mean = x.colwise().mean();
  const Matrix centred = x.rowwise() - mean.transpose();
  const Matrix cov = centred.transpose() * centred / static_cast<double>(n);
  for (Index j = 0; j < 3; ++j) {
    EXPECT_NEAR(mean[j], static_cast<double>(j), 5 / std::sqrt(n));  // unit variances
    for (Index k = 0; k < 3; ++k) {
      const double expected = std::pow(0.5, std::abs(j - k));
      // sd of a sample covariance ≈ sqrt((1 + ρ²)/n)
      EXPECT_NEAR(cov(j, k), expected, 5 * std::sqrt((1 + expected * expected) / n));
    }
  }
}

TEST(Targets, GmmComponentWeightsAreRecovered) {
  const auto target = make_target("gmm", 2);
  const Index n = 100'000;
  const Matrix x = draw_rows(*target, 3, {0, n});
  // Assign by angle: the modes are at 90°, 210°, 330°; overlap between them is negligible.
  double counts[3] = {0, 0, 0};
  for (Index r = 0; r < n; ++r) {
    const double angle = std::atan2(x(r, 1), x(r, 0)) * 180 / M_PI;
    counts[(angle > 30 && angle <= 150) ? 0 : ((angle > 150 || angle <= -90) ? 1 : 2)] += 1;
  }
  const double w[3] = {0.5, 0.3, 0.2};
  for (int k = 0; k < 3; ++k)
    EXPECT_NEAR(counts[k] / n, w[k], 5 * std::sqrt(w[k] * (1 - w[k]) / n) + 1e-3);
}

TEST(Targets, RowsDependOnlyOnSeedAndRowIndex) {
  const auto target = make_target("rings", 3);
  const Matrix all = draw_rows(*target, 9, {0, 100});
  const Matrix part = draw_rows(*target, 9, {37, 61});
  EXPECT_EQ(part, all.middleRows(37, 24));
}
