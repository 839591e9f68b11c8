// The one noise process: its ladder, its conditioning, and its meta.json section (new and legacy).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "scorematch/io/model_dir.hpp"
#include "scorematch/models/noise_process.hpp"
#include "scorematch/objectives/objective.hpp"
#include "scorematch/objectives/sigma_density.hpp"

namespace scorematch {
namespace {

TEST(NoiseProcess, LadderIsGeometricFromSigmaMaxToSigmaMin) {
  NoiseProcess p;
  p.kind = NoiseKind::ve_ladder;
  p.sigma_min = 0.01;
  p.sigma_max = 10.0;
  p.levels = 4;
  EXPECT_EQ(p.ladder_sigma(0), 10.0);
  EXPECT_NEAR(p.ladder_sigma(3), 0.01, 1e-15);
  for (Index i = 0; i + 1 < p.levels; ++i)  // constant ratio (σ_min/σ_max)^{1/(L−1)} = 0.1
    EXPECT_NEAR(p.ladder_sigma(i + 1) / p.ladder_sigma(i), 0.1, 1e-14);
  EXPECT_EQ(NoiseProcess::ladder_sigma(10.0, 0.01, 1, 0), 0.01);  // one level: σ_min
  EXPECT_EQ(p.conditioning(), Conditioning::sigma);
  EXPECT_EQ(p.smallest_level(), 0.01);
}

TEST(NoiseProcess, VeSdeIsTheLadderContinuum) {
  NoiseProcess p;
  p.kind = parse_noise_kind("vesde");
  p.sigma_min = 0.01;
  p.sigma_max = 5.0;
  EXPECT_EQ(p.name(), "vesde");
  EXPECT_EQ(p.conditioning(), Conditioning::sigma);
  EXPECT_EQ(p.smallest_level(), 0.01);
  EXPECT_NEAR(p.ve_sigma(0.0), 0.01, 1e-16);
  EXPECT_NEAR(p.ve_sigma(1.0), 5.0, 1e-14);
  EXPECT_NEAR(p.ve_sigma(0.5), std::sqrt(0.01 * 5.0), 1e-15);  // log σ uniform: geometric mean
  EXPECT_TRUE(p.uses("sigma_max"));
  EXPECT_FALSE(p.uses("levels"));  // a continuum has no rungs
  const auto back = io::parse_noise_meta(nlohmann::json{{"noise", io::noise_meta(p)}});
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->kind, NoiseKind::ve_sde);
  EXPECT_EQ(back->sigma_min, 0.01);
  EXPECT_EQ(back->sigma_max, 5.0);
  EXPECT_FALSE(io::noise_meta(p).contains("levels"));
}

TEST(NoiseProcess, NamesAndConditioning) {
  EXPECT_EQ(parse_noise_kind("single"), NoiseKind::fixed);
  EXPECT_EQ(parse_noise_kind("ladder"), NoiseKind::ve_ladder);
  EXPECT_EQ(parse_noise_kind("vpsde"), NoiseKind::vp_sde);
  EXPECT_THROW(parse_noise_kind("ve"), Error);
  NoiseProcess vp;
  vp.kind = NoiseKind::vp_sde;
  EXPECT_EQ(vp.conditioning(), Conditioning::time);
  EXPECT_EQ(vp.name(), "vpsde");
  EXPECT_EQ(NoiseProcess{}.conditioning(), Conditioning::none);
}

TEST(NoiseProcess, OnlyTheDenoisingObjectiveHasOne) {
  ObjectiveSettings s;
  s.name = "ism";
  EXPECT_FALSE(make_objective(s)->noise().has_value());
  s.name = "dsm";
  s.noise = "ladder";
  s.sigma_min = 0.05;
  s.sigma_max = 2.0;
  const auto noise = make_objective(s)->noise();
  ASSERT_TRUE(noise.has_value());
  EXPECT_EQ(noise->kind, NoiseKind::ve_ladder);
  EXPECT_EQ(noise->sigma_max, 2.0);
}

TEST(NoiseProcess, MetaSectionRoundTripsAndLegacyDirectoriesStillLoad) {
  NoiseProcess p;
  p.kind = NoiseKind::ve_ladder;
  p.sigma_min = 0.02;
  p.sigma_max = 3.0;
  p.levels = 7;
  const auto back = io::parse_noise_meta(nlohmann::json{{"noise", io::noise_meta(p)}});
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->kind, NoiseKind::ve_ladder);
  EXPECT_EQ(back->sigma_min, 0.02);
  EXPECT_EQ(back->sigma_max, 3.0);
  EXPECT_EQ(back->levels, 7);
  // scorematch 0.1.0 kept the settings only in the training config.
  const nlohmann::json legacy = {{"fit",
                                  {{"config",
                                    {{"objective",
                                      {{"name", "dsm"},
                                       {"noise", "ladder"},
                                       {"sigma_min", 0.02},
                                       {"sigma_max", 3.0},
                                       {"levels", 7}}}}}}}};
  const auto old = io::parse_noise_meta(legacy);
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(old->kind, NoiseKind::ve_ladder);
  EXPECT_EQ(old->sigma_max, 3.0);
  // No denoising fit (ism, closed form): no noise process.
  EXPECT_FALSE(io::parse_noise_meta(nlohmann::json{{"kind", "gaussian"}}).has_value());
  nlohmann::json ism = legacy;
  ism["fit"]["config"]["objective"]["name"] = "ism";
  EXPECT_FALSE(io::parse_noise_meta(ism).has_value());
}

// The invariants dsm holds at fit are the ones a meta.json is held to at load (one predicate):
// each kind's own, and a file that breaks them is refused naming the process and its values.
TEST(NoiseProcess, InvariantsAreCheckedAtFitAndAtLoad) {
  NoiseProcess p;
  EXPECT_TRUE(p.valid());
  p.sigma = 0;
  EXPECT_FALSE(p.valid());
  p.kind = NoiseKind::ve_ladder;
  p.sigma_min = 0.02;
  p.sigma_max = 3.0;
  p.levels = 7;
  EXPECT_TRUE(p.valid());
  p.levels = 1;
  EXPECT_FALSE(p.valid());
  p.kind = NoiseKind::ve_sde;
  EXPECT_TRUE(p.valid());  // a VE SDE has no levels
  p.sigma_max = 0.01;
  EXPECT_FALSE(p.valid());
  p.sigma_max = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(p.valid());
  p.kind = NoiseKind::vp_sde;
  EXPECT_TRUE(p.valid());  // t_eps and beta at their defaults
  p.t_eps = 1.0;
  EXPECT_FALSE(p.valid());
  p.t_eps = 1e-3;
  p.sde.beta_max = p.sde.beta_min;
  EXPECT_FALSE(p.valid());
  // Read back: a ladder of one level, and a legacy directory's reversed range.
  NoiseProcess one;
  one.kind = NoiseKind::ve_ladder;
  one.levels = 1;
  nlohmann::json meta{{"noise", io::noise_meta(one)}};
  EXPECT_THROW(
      {
        try {
          io::parse_noise_meta(meta);
        } catch (const Error& e) {
          EXPECT_STREQ(e.what(),
                       "meta.json noise (process ladder) needs 0 < sigma_min < sigma_max < inf "
                       "and 2 <= levels <= 2147483647, got sigma_min 0.01, sigma_max 1, levels 1");
          throw;
        }
      },
      Error);
  ObjectiveSettings s;
  s.name = "dsm";
  s.noise = "ladder";
  s.levels = 1;
  EXPECT_THROW(make_objective(s), Error);  // the same predicate at fit
  const nlohmann::json legacy = {
      {"fit",
       {{"config",
         {{"objective",
           {{"name", "dsm"}, {"noise", "vesde"}, {"sigma_min", 3.0}, {"sigma_max", 0.02}}}}}}}};
  EXPECT_THROW(io::parse_noise_meta(legacy), Error);
}

// The training density of σ (objectives/sigma_density.hpp). n = 40 000 seeded rows; the bounds
// are 5 standard errors of each statistic: the mean of log σ (sd/√n), its sd (≈ sd/√(2n)) and the
// fraction below the median (½/√n).
TEST(SigmaDensity, LognormalDrawsHaveTheirMeanAndSdOfLogSigma) {
  NoiseProcess p;
  p.kind = NoiseKind::ve_sde;
  const SigmaDensity d = SigmaDensity::parse("lognormal", -1.8, 1.2);
  const int n = 40000;
  double sum = 0, sum2 = 0, below = 0;
  for (int i = 0; i < n; ++i) {
    RandomStream rng(11, static_cast<std::uint64_t>(i), 3);
    const double l = std::log(d.draw(p, rng));
    sum += l;
    sum2 += l * l;
    below += l < -1.8;
  }
  const double mean = sum / n, sd = std::sqrt(sum2 / n - mean * mean);
  EXPECT_NEAR(mean, -1.8, 5 * 1.2 / std::sqrt(n));
  EXPECT_NEAR(sd, 1.2, 5 * 1.2 / std::sqrt(2.0 * n));
  EXPECT_NEAR(below / n, 0.5, 5 * 0.5 / std::sqrt(n));
}

// log-uniform (the default) is bitwise the VE SDE's σ(u) of one uniform, inside [σ_min, σ_max],
// log σ of mean (log σ_min + log σ_max)/2 within 5 standard errors (range/√(12 n)).
TEST(SigmaDensity, LogUniformIsTheVeSdeSigmaOfOneUniform) {
  NoiseProcess p;
  p.kind = NoiseKind::ve_sde;
  p.sigma_min = 0.01;
  p.sigma_max = 5.0;
  const SigmaDensity d = SigmaDensity::parse("log-uniform", -1.2, 1.2);
  const int n = 40000;
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    RandomStream a(11, static_cast<std::uint64_t>(i), 3), b = a;
    const double sigma = d.draw(p, a);
    EXPECT_EQ(sigma, p.ve_sigma(b.uniform()));
    ASSERT_TRUE(sigma >= p.sigma_min && sigma <= p.sigma_max) << sigma;
    sum += std::log(sigma);
  }
  const double range = std::log(p.sigma_max / p.sigma_min);
  EXPECT_NEAR(sum / n, std::log(p.sigma_min) + range / 2, 5 * range / std::sqrt(12.0 * n));
}

TEST(SigmaDensity, BadSettingsAreErrorsAndOnlyLognormalReadsItsParameters) {
  EXPECT_THROW(SigmaDensity::parse("normal", -1.2, 1.2), Error);
  EXPECT_THROW(SigmaDensity::parse("lognormal", -1.2, 0.0), Error);
  EXPECT_THROW(SigmaDensity::parse("lognormal", -1.2, std::nan("")), Error);
  EXPECT_THROW(SigmaDensity::parse("lognormal", std::nan(""), 1.2), Error);
  ObjectiveSettings s;
  s.name = "dsm";
  s.noise = "vesde";
  auto dsm = make_objective(s);
  EXPECT_TRUE(dsm->uses("sigma_density"));
  EXPECT_FALSE(dsm->uses("p_mean"));
  EXPECT_FALSE(dsm->uses("p_std"));
  s.sigma_density = "lognormal";
  dsm = make_objective(s);
  EXPECT_TRUE(dsm->uses("p_mean"));
  EXPECT_TRUE(dsm->uses("p_std"));
  EXPECT_EQ(dsm->description(), "dsm with noise 'vesde' (lognormal sigma)");
  s.noise = "ladder";  // a ladder has its own levels: no density to choose
  EXPECT_THROW(make_objective(s), Error);
  s.sigma_density = "log-uniform";
  EXPECT_FALSE(make_objective(s)->uses("sigma_density"));
}

}  // namespace
}  // namespace scorematch
