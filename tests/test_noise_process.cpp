// The one noise process: its ladder, its conditioning, and its meta.json section (new and legacy).
#include <gtest/gtest.h>

#include <cmath>

#include "scorematch/io/model_dir.hpp"
#include "scorematch/models/noise_process.hpp"
#include "scorematch/objectives/objective.hpp"

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

}  // namespace
}  // namespace scorematch
