// Model directories: meta.json (format, kind, dim, columns, fit settings, list of arrays) plus one
// NPY file per array, readable with numpy alone. New model kinds register a loader in
// src/io/model_dir.cpp (one line).
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "scorematch/inverse/decoder.hpp"
#include "scorematch/io/output_dir.hpp"
#include "scorematch/models/mlp.hpp"
#include "scorematch/models/noise_process.hpp"
#include "scorematch/models/score_model.hpp"
#include "scorematch/sampling/noised_score.hpp"

namespace scorematch::io {

inline constexpr int kModelFormatVersion = 1;

// Stages meta.json and the model's arrays (plus `extra` arrays such as standard errors) into
// `out`; the caller commits. meta gets format, kind, dim and the array list filled in.
void stage_model(OutputDir& out, const ScoreModel& model, nlohmann::json meta,
                 const NamedArrays& extra = {});

// The "mlp" section of meta.json: architecture and conditioning (arrays hold the weights).
nlohmann::json mlp_meta(const MlpSpec& spec, double noise_level);
std::pair<MlpSpec, double> parse_mlp_meta(const nlohmann::json& mlp, Index dim);
// The keys of mlp_meta that describe the formulas in prose (layout, residual_form, ...): derived
// from the settings beside them, so comparisons of two networks skip them.
const std::vector<std::string>& mlp_prose_keys();

// The "noise" section of meta.json: the noise process a denoising objective trained the model on
// (models/noise_process.hpp), e.g. {"process": "ladder", "sigma_min": 0.01, "sigma_max": 1,
// "levels": 10}. Model directories written before it existed carry the same settings in
// fit.config.objective, which parse_noise_meta reads instead.
nlohmann::json noise_meta(const NoiseProcess& noise);
std::optional<NoiseProcess> parse_noise_meta(const nlohmann::json& meta);

// How to evaluate a loaded network: single-precision sweeps (samplers; other kinds ignore it)
// and, for a noise-conditioned network, the level at which it is a plain score model (0: its
// smallest training level; any other kind refuses a level).
struct LoadOptions {
  bool float32 = false;
  double noise_level = 0;
};

struct LoadedModel {
  nlohmann::json meta;
  std::unique_ptr<ScoreModel> model;
  // The score of the noised laws of a σ- or t-conditioned network (null otherwise); it refers
  // to *model, so keep both together.
  std::unique_ptr<NoisedScore> noised;
  std::optional<NoiseProcess> noise;  // the training noise of a denoising fit
};

// The identity of a model directory's contents: FNV-1a (64 bits, hex) over meta.json and every
// array file it names, in name order (not the directory's path: a copied model keeps it, a refit
// changes it). logz records it so that loglik and compare refuse a log Z of another model.
std::string model_fingerprint(const std::string& dir);

LoadedModel load_model(const std::string& dir, const LoadOptions& options = {});

// Decoder directories (kind linear-decoder: W.npy [d, k], b.npy [d]; kind mlp-decoder: W0.npy,
// b0.npy, … with an mlp section whose output is "decoder"): meta.json also holds latent_dim (k)
// and data_dim (d); an optional noise_sd.npy (length d) is the decoder's noise model.
struct LoadedDecoder {
  nlohmann::json meta;
  std::unique_ptr<inverse::Decoder> decoder;
  Vector noise_sd;  // empty when the directory has none
};
LoadedDecoder load_decoder(const std::string& dir);
void stage_decoder(OutputDir& out, const inverse::Decoder& decoder, nlohmann::json meta,
                   const NamedArrays& extra = {});

}  // namespace scorematch::io
