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

// Throws Error unless the data fit the model: the model's dimension, and — where the model
// recorded its columns — not the model's columns in another order (a swapped header would give
// numbers for the wrong variables). Other names are accepted (a renamed held-out file).
// `model` names it in the messages ("the model", or "the model 'DIR'" among several).
void check_data_fits_model(const LoadedScore& src, const io::DataInfo& data,
                           const std::string& path, const std::string& model = "the model");

}  // namespace scorematch::app
