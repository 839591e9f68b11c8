// Parallel tempering (sampling/parallel_tempering.cpp): on the gmm target (three well-separated
// modes, weights 0.5, 0.3, 0.2 — separated by ~8.7 standard deviations, so each mode's Voronoi
// cell holds its weight to 1e-9), with every chain started in one mode, PT's draws give each
// mode's mass within 3 MCSE of its weight while MALA from the same starts does not; draws are the
// same bits for 1 and 3 chain shards and 1 and 2 threads; bad settings are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "sampling_testing.hpp"
#include "scorematch/core/parallel.hpp"
#include "scorematch/models/targets.hpp"

namespace scorematch {
namespace {

using testing::chain_matrix;
using testing::run_chains;

SamplerSettings pt_settings(const Target& target, Index warmup, Index steps) {
  SamplerSettings s;
  s.name = "pt";
  s.warmup = warmup;
  s.steps = steps;
  s.replicas = 8;
  s.seed = 3;
  const auto st = target.standardisation();
  s.reference_mean = st->shift;
  s.reference_sd = st->scale;
  return s;
}

// Fraction of draws in each mode's cell (nearest centre), with its MCSE from the indicator's ESS.
void mode_masses(const Matrix& draws, Index chains, const SharedCovarianceMixture& mix,
                 Vector& mass, Vector& mcse) {
  const Index K = mix.weights.size();
  mass.resize(K);
  mcse.resize(K);
  for (Index k = 0; k < K; ++k) {
    Matrix indicator(draws.rows(), 1);
    for (Index i = 0; i < draws.rows(); ++i) {
      Index best = 0;
      for (Index j = 1; j < K; ++j)
        if ((draws.row(i) - mix.means.row(j)).squaredNorm() <
            (draws.row(i) - mix.means.row(best)).squaredNorm())
          best = j;
      indicator(i, 0) = best == k ? 1.0 : 0.0;
    }
    const diagnostics::ConvergenceSummary s =
        diagnostics::summarize(chain_matrix(indicator, chains, 0));
    mass[k] = s.mean;
    mcse[k] = s.mcse_mean;
  }
}

TEST(ParallelTempering, ModeMassesOfAMultimodalTargetWhereMalaIsStuck) {
  const auto target = make_target("gmm", 2);
  const SharedCovarianceMixture mix = gmm_target_mixture(2);
  const Index chains = 64;
  const Matrix start = mix.means.row(0).replicate(chains, 1);  // every chain in mode 0
  const Matrix pt =
      run_chains(pt_settings(*target, 2000, 3000), {target.get(), nullptr}, chains, 1, &start);
  Vector mass, mcse;
  mode_masses(pt, chains, mix, mass, mcse);
  for (Index k = 0; k < 3; ++k) {
    std::printf("[pt] mode %ld: mass %.4f +- %.4f (exact %.1f)\n", static_cast<long>(k), mass[k],
                mcse[k], mix.weights[k]);
    EXPECT_LT(std::fabs(mass[k] - mix.weights[k]), 3 * mcse[k]) << "mode " << k;
  }
  SamplerSettings mala;
  mala.name = "mala";
  mala.warmup = 1000;
  mala.steps = 2000;
  mala.seed = 3;
  const Matrix stuck = run_chains(mala, {target.get(), nullptr}, chains, 1, &start);
  Vector mala_mass, mala_mcse;
  mode_masses(stuck, chains, mix, mala_mass, mala_mcse);
  std::printf("[pt] mala from the same starts: masses %.4f %.4f %.4f\n", mala_mass[0], mala_mass[1],
              mala_mass[2]);
  EXPECT_GT(std::fabs(mala_mass[0] - mix.weights[0]), 0.3);
}

TEST(ParallelTempering, BitwiseForAnyShardAndThreadCount) {
  const auto target = make_target("gmm", 3);
  const SamplerSettings s = pt_settings(*target, 80, 40);
  const Matrix one = run_chains(s, {target.get(), nullptr}, 130, 1);
  const Matrix three = run_chains(s, {target.get(), nullptr}, 130, 3);
  parallel::set_num_threads(1);
  const Matrix serial = run_chains(s, {target.get(), nullptr}, 130, 1);
  parallel::set_num_threads(0);
  ASSERT_EQ(one.size(), three.size());
  EXPECT_EQ(0, std::memcmp(one.data(), three.data(), static_cast<std::size_t>(one.size()) * 8));
  EXPECT_EQ(0, std::memcmp(one.data(), serial.data(), static_cast<std::size_t>(one.size()) * 8));
}

TEST(ParallelTempering, RefusesBadSettings) {
  const auto target = make_target("gmm", 2);
  SamplerSettings s = pt_settings(*target, 10, 10);
  s.replicas = 1;
  EXPECT_THROW(make_sampler(s, {target.get(), nullptr}), InvalidSetting);
  s = pt_settings(*target, 10, 10);
  s.reference_sd = Vector();
  EXPECT_THROW(make_sampler(s, {target.get(), nullptr}), Error);
}

}  // namespace
}  // namespace scorematch
