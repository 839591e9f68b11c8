// HMC (sampling/hmc.cpp): on Gaussians of d = 10 and 50 whose covariance has condition number 100
// (diagonal, standard deviations log-spaced from 1 to 10), the chain means and variances are within
// their Monte-Carlo errors of the truth; at d = 50 its ESS per gradient evaluation is at least 3x
// MALA's (both adapt their step size in the same warm-up; HMC also its diagonal metric); the
// draws are the same bits for 1 and 3 "ranks" (chain shards) and 1 and 2 threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "sampling_testing.hpp"
#include "scorematch/core/parallel.hpp"
#include "scorematch/models/gaussian_model.hpp"

namespace scorematch {
namespace {

using testing::chain_matrix;
using testing::run_chains;

Vector log_spaced_sd(Index d) {
  Vector sd(d);
  for (Index j = 0; j < d; ++j)
    sd[j] = std::pow(10.0, static_cast<double>(j) / static_cast<double>(std::max<Index>(d - 1, 1)));
  return sd;
}

GaussianModel ill_conditioned(Index d) {
  const Vector sd = log_spaced_sd(d);
  return GaussianModel(Vector::LinSpaced(d, -1, 1), sd.cwiseAbs2().cwiseInverse().asDiagonal());
}

SamplerSettings settings(const std::string& name, Index warmup, Index steps) {
  SamplerSettings s;
  s.name = name;
  s.warmup = warmup;
  s.steps = steps;
  s.seed = 5;
  return s;
}

// The smallest ESS-bulk over the dimensions, and each dimension's mean and variance error in units
// of its MCSE (mean: sd/√ESS; variance: from the ESS of the squared deviations, as posterior's
// mcse_sd).
struct Check {
  double min_ess = 1e300, worst_mean_z = 0, worst_sd_z = 0;
};
Check check(const Matrix& draws, Index chains, const GaussianModel& model) {
  Check c;
  const Vector sd = model.gaussian()->precision.diagonal().cwiseInverse().cwiseSqrt();
  for (Index j = 0; j < draws.cols(); ++j) {
    const diagnostics::ConvergenceSummary s =
        diagnostics::summarize(chain_matrix(draws, chains, j));
    c.min_ess = std::min(c.min_ess, s.ess_bulk);
    c.worst_mean_z =
        std::max(c.worst_mean_z, std::fabs(s.mean - model.gaussian()->mean[j]) / s.mcse_mean);
    c.worst_sd_z = std::max(c.worst_sd_z, std::fabs(s.sd - sd[j]) / s.mcse_sd);
  }
  return c;
}

TEST(Hmc, MomentsOfIllConditionedGaussiansWithinMcse) {
  for (Index d : {10, 50}) {
    const GaussianModel model = ill_conditioned(d);
    const Index chains = 64;
    const Matrix draws = run_chains(settings("hmc", 1000, 500), {&model, nullptr}, chains);
    const Check c = check(draws, chains, model);
    // 2d statistics: 4 MCSE keeps a false alarm below 1e-4 per statistic.
    EXPECT_LT(c.worst_mean_z, 4.0) << "d = " << d;
    EXPECT_LT(c.worst_sd_z, 4.0) << "d = " << d;
    EXPECT_GT(c.min_ess, 1000) << "d = " << d;
  }
}

TEST(Hmc, EssPerGradientBeatsMalaThreefoldAtD50) {
  const Index d = 50, chains = 64, steps = 500;
  const GaussianModel model = ill_conditioned(d);
  SamplerSettings hmc = settings("hmc", 1000, steps);
  const Check h = check(run_chains(hmc, {&model, nullptr}, chains), chains, model);
  const Check m =
      check(run_chains(settings("mala", 1000, steps), {&model, nullptr}, chains), chains, model);
  // Gradient evaluations of the kept phase: L per HMC transition, 1 per MALA transition.
  const double per_grad_hmc = h.min_ess / static_cast<double>(chains * steps * hmc.leapfrog_steps);
  const double per_grad_mala = m.min_ess / static_cast<double>(chains * steps);
  std::printf(
      "[hmc] d = 50: min ESS-bulk per gradient: hmc %.4f (ESS %.0f), mala %.4f (ESS %.0f)\n",
      per_grad_hmc, h.min_ess, per_grad_mala, m.min_ess);
  EXPECT_GT(per_grad_hmc, 3 * per_grad_mala);
}

TEST(Hmc, BitwiseForAnyShardAndThreadCount) {
  const GaussianModel model = ill_conditioned(5);
  const SamplerSettings s = settings("hmc", 100, 50);
  const Matrix one = run_chains(s, {&model, nullptr}, 130, 1);
  const Matrix three = run_chains(s, {&model, nullptr}, 130, 3);
  parallel::set_num_threads(1);
  const Matrix serial = run_chains(s, {&model, nullptr}, 130, 1);
  parallel::set_num_threads(0);
  ASSERT_EQ(one.size(), three.size());
  EXPECT_EQ(0, std::memcmp(one.data(), three.data(), static_cast<std::size_t>(one.size()) * 8));
  EXPECT_EQ(0, std::memcmp(one.data(), serial.data(), static_cast<std::size_t>(one.size()) * 8));
}

TEST(Hmc, RefusesScoreOnlyModelsAndBadSettings) {
  const GaussianModel model = ill_conditioned(3);
  SamplerSettings s = settings("hmc", 10, 10);
  s.leapfrog_steps = 0;
  EXPECT_THROW(make_sampler(s, {&model, nullptr}), InvalidSetting);
  s = settings("hmc", 10, 10);
  s.target_accept = 1.5;
  EXPECT_THROW(make_sampler(s, {&model, nullptr}), InvalidSetting);
  EXPECT_THROW(make_sampler(settings("hmc", 10, 10), {nullptr, nullptr}), Error);
}

}  // namespace
}  // namespace scorematch
