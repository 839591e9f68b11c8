// Loads what samplers and the ODE likelihood run on: --model DIR or --target NAME, plus the noised
// score where one exists (a σ- or t-conditioned network, or the closed-form noised gaussian/gmm
// target under `scheme`).
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "scorematch/io/dataset.hpp"
#include "scorematch/io/model_dir.hpp"
#include "scorematch/models/noise_process.hpp"
#include "scorematch/models/score_model.hpp"
#include "scorematch/sampling/noised_score.hpp"

namespace scorematch::app {

struct LoadedScore {
  std::unique_ptr<ScoreModel> model;
  std::unique_ptr<NoisedScore> noised;
  nlohmann::json description, meta;
  std::optional<NoiseProcess> noise;  // the training noise of a denoising fit (meta.json "noise")
};

// options: how to evaluate a network (io::LoadOptions: float32, a noise level).
LoadedScore load_score_source(const std::string& model_dir, const std::string& target, Index dim,
                              NoiseScheme scheme = NoiseScheme::vpsde, VpSde sde = {},
                              const io::LoadOptions& options = {});

// A fitted Gaussian prior N(μ, P⁻¹) (fit --model gaussian) has closed-form noised laws, like the
// gaussian target: N(μ, C + σ²I) on the VE scheme (sigma), C = P⁻¹, in centred coordinates z = x −
// μ (NoisedScore::shift() = μ, so the samplers start at the prior's mean). Attaches them as
// src.noised when src has none, so ve-pc, annealed and Tweedie's formula run on a prior whose
// noised scores are one family by construction: their posterior means are then exact, which
// checks a sampler on real data. Only the VE scheme: the VP samplers start from N(0, I), which
// a Gaussian of another scale is not near at t = 1 (networks are trained on standardised
// coordinates; a Gaussian fit is not). Only for the commands that read noised scores as a prior
// (sample, map): elsewhere a noised score selects another path (loglik's probability-flow ODE).
// Returns the VE samplers' defaults for this prior (0 when nothing was attached, as for a gaussian
// target, whose noised laws are its own; or when the prior is not Gaussian): σ_max =
// max(10, 10 √λ_max(C)), at which the start N(μ, σ_max² I) costs the reverse process a relative
// variance error below 1e-4, and σ_min = min(0.01, 0.01 √λ_min(C)), whose final Tweedie step keeps
// all but 1e-4 of the narrowest direction's variance; and σ_d = √(tr C / d), edm's sigma_data
// (the root-mean-square sd per coordinate about the mean), pigdm guidance's default, for a fitted
// Gaussian prior and a gaussian target alike.
struct GaussianNoisedDefaults {
  double sigma_max = 0, sigma_min = 0, sigma_data = 0;
};
GaussianNoisedDefaults attach_gaussian_noised(LoadedScore& src);

// Throws Error unless the data fit the model: the model's dimension, and — where the model
// recorded its columns — not the model's columns in another order (a swapped header would give
// numbers for the wrong variables). Other names are accepted (a renamed held-out file).
// `model` names it in the messages ("the model", or "the model 'DIR'" among several).
void check_data_fits_model(const LoadedScore& src, const io::DataInfo& data,
                           const std::string& path, const std::string& model = "the model");

// A noise-conditioned network read at a level outside the range it was trained on — σ outside
// [σ_min, σ_max] (dsm --noise ladder or vesde) or t outside [t_eps, 1] (vpsde), of meta.json
// "noise" — returns an extrapolation, not a score it learned: throws SettingError naming `what`
// (the setting that asked for the level, as given) and the range. `level` is in the model's
// units. Priors without a training range (closed-form noised laws, unconditioned networks) pass.
void check_trained_level(const std::optional<NoiseProcess>& trained, double level,
                         const std::string& what);

}  // namespace scorematch::app
