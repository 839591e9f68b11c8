// Annealed importance sampling (estimators/ais.hpp): the log-mean-exp and its SE, the schedules,
// log Z of normalised models (exactly 0) within 3 SE, calibration of the SE over replicate
// seeds, and bitwise results for 1 and 2 threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "scorematch/core/parallel.hpp"
#include "scorematch/estimators/ais.hpp"
#include "scorematch/models/gaussian_model.hpp"
#include "scorematch/models/targets.hpp"

namespace scorematch {
namespace {

TEST(Ais, LogMeanExpOfKnownWeights) {
  Vector lw(4);
  lw << std::log(1.0), std::log(2.0), std::log(3.0), std::log(6.0);
  const LogMeanExp r = log_mean_exp(lw);
  EXPECT_NEAR(r.log_mean, std::log(3.0), 1e-15);
  // w = 1, 2, 3, 6: sample variance 14/3; se = sqrt(var / 4) / 3.
  EXPECT_NEAR(r.se, std::sqrt(14.0 / 3.0 / 4.0) / 3.0, 1e-15);
  EXPECT_NEAR(r.ess, 144.0 / 50.0, 1e-14);
  // Shift invariance: huge log-weights do not overflow.
  const LogMeanExp big = log_mean_exp((lw.array() + 1000.0).matrix());
  EXPECT_NEAR(big.log_mean, 1000.0 + std::log(3.0), 1e-12);
  EXPECT_NEAR(big.se, r.se, 1e-14);
}

TEST(Ais, UndefinedStatisticsAreNotNumbers) {
  const LogMeanExp one = log_mean_exp(Vector::Constant(1, 0.5));
  EXPECT_DOUBLE_EQ(one.log_mean, 0.5);
  EXPECT_TRUE(std::isnan(one.se));
  EXPECT_FALSE(one.undefined.empty());
  Vector inf = Vector::Zero(3);
  inf[1] = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(std::isnan(log_mean_exp(inf).log_mean));
  const LogMeanExp zero =
      log_mean_exp(Vector::Constant(3, -std::numeric_limits<double>::infinity()));
  EXPECT_EQ(zero.log_mean, -std::numeric_limits<double>::infinity());
  EXPECT_FALSE(zero.undefined.empty());
}

TEST(Ais, SchedulesRunFromZeroToOne) {
  for (const char* kind : {"sigmoid", "linear"}) {
    const std::vector<double> b = ais_schedule(kind, 50);
    ASSERT_EQ(b.size(), 51u);
    EXPECT_EQ(b.front(), 0.0);
    EXPECT_EQ(b.back(), 1.0);
    for (std::size_t t = 1; t < b.size(); ++t) EXPECT_GT(b[t], b[t - 1]) << kind << " " << t;
  }
  EXPECT_THROW(ais_schedule("cosine", 10), Error);
  EXPECT_THROW(ais_schedule("linear", 0), Error);
}

DiagonalGaussian moment_base(const Target& target) {
  const Matrix x = draw_rows(target, 7, {0, 4096});
  const Vector mean = x.colwise().mean();
  const Vector sd = ((x.rowwise() - mean.transpose()).array().square().colwise().mean())
                        .sqrt()
                        .matrix()
                        .transpose();
  return {mean, sd};
}

// Normalised energies have log Z = 0: the estimate is within 3 SE and the SE is small.
TEST(Ais, NormalisedTargetsHaveLogZeroWithinThreeSe) {
  const SerialCollective one;
  for (const char* name : {"gmm", "banana"}) {
    const auto target = make_target(name, 2);
    AisSettings s;
    s.chains = 512;
    s.temps = 500;
    s.seed = 3;
    const AisResult r = ais_log_z(one, *target, moment_base(*target), s);
    EXPECT_LT(std::fabs(r.log_z.log_mean), 3 * r.log_z.se) << name;
    EXPECT_LT(r.log_z.se, 0.02) << name;
    EXPECT_GT(r.log_z.ess, 0.5 * 512) << name;
    EXPECT_GT(r.acceptance.mean(), 0.4) << name;
  }
}

// A correlated Gaussian model (normalised energy) from a diagonal base that ignores the
// correlation: still log Z = 0 within 3 SE.
TEST(Ais, CorrelatedGaussianModel) {
  const Index d = 5;
  Matrix cov(d, d);
  for (Index i = 0; i < d; ++i)
    for (Index j = 0; j < d; ++j)
      cov(i, j) = std::pow(0.8, static_cast<double>(std::abs(i - j))) *
                  std::sqrt((1.0 + static_cast<double>(i)) * (1.0 + static_cast<double>(j)));
  const Vector mean = Vector::LinSpaced(d, -2, 2);
  const GaussianModel model(mean, cov.inverse());
  AisSettings s;
  s.chains = 512;
  s.temps = 1000;
  const AisResult r = ais_log_z(SerialCollective(), model, {mean, cov.diagonal().cwiseSqrt()}, s);
  EXPECT_LT(std::fabs(r.log_z.log_mean), 3 * r.log_z.se);
  EXPECT_LT(r.log_z.se, 0.02);
}

// The delta-method SE is calibrated: over 40 replicate seeds the spread of the estimates matches
// the mean reported SE (the sample SD of 40 values has relative error ~ 1/sqrt(78) = 11%; the
// band 0.7–1.4 is ±3 of those), and the mean estimate is within 3 of its own SE of 0.
TEST(Ais, StandardErrorIsCalibratedOverSeeds) {
  const auto target = make_target("gmm", 2);
  const DiagonalGaussian base = moment_base(*target);
  const int replicates = 40;
  Vector est(replicates), se(replicates);
  for (int k = 0; k < replicates; ++k) {
    AisSettings s;
    s.chains = 128;
    s.temps = 100;
    s.tune_chains = 64;
    s.seed = 100 + static_cast<std::uint64_t>(k);
    const AisResult r = ais_log_z(SerialCollective(), *target, base, s);
    est[k] = r.log_z.log_mean;
    se[k] = r.log_z.se;
  }
  const double m = est.mean();
  const double sd = std::sqrt((est.array() - m).square().sum() / (replicates - 1));
  const double ratio = sd / se.mean();
  EXPECT_GT(ratio, 0.7) << "spread " << sd << " vs mean SE " << se.mean();
  EXPECT_LT(ratio, 1.4) << "spread " << sd << " vs mean SE " << se.mean();
  EXPECT_LT(std::fabs(m), 3 * sd / std::sqrt(replicates)) << "mean of the estimates " << m;
}

TEST(Ais, BitwiseForAnyThreadCount) {
  const auto target = make_target("gmm", 3);
  AisSettings s;
  s.chains = 200;  // 4 blocks, the last partial
  s.temps = 50;
  s.steps_per_temp = 2;
  std::vector<Vector> weights;
  for (int threads : {1, 2}) {
    parallel::set_num_threads(threads);
    weights.push_back(ais_log_z(SerialCollective(), *target, moment_base(*target), s).log_weights);
  }
  parallel::set_num_threads(0);
  ASSERT_EQ(weights[0].size(), 200);
  EXPECT_EQ(0, std::memcmp(weights[0].data(), weights[1].data(), 200 * sizeof(double)));
}

TEST(Ais, RefusesBadSettings) {
  const auto target = make_target("gmm", 2);
  const DiagonalGaussian base = moment_base(*target);
  AisSettings s;
  s.chains = 0;
  EXPECT_THROW(ais_log_z(SerialCollective(), *target, base, s), InvalidSetting);
  s = AisSettings{};
  s.target_accept = 1.0;
  EXPECT_THROW(ais_log_z(SerialCollective(), *target, base, s), InvalidSetting);
  s = AisSettings{};
  EXPECT_THROW(ais_log_z(SerialCollective(), *target, {Vector::Zero(2), Vector::Zero(2)}, s),
               Error);
}

}  // namespace
}  // namespace scorematch
