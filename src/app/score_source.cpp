#include "score_source.hpp"

#include <algorithm>
#include <optional>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <cmath>

#include "app/memory_budget.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/io/model_dir.hpp"
#include "scorematch/models/mlp_model.hpp"
#include "scorematch/models/targets.hpp"

namespace scorematch::app {

LoadedScore load_score_source(const std::string& model_dir, const std::string& target, Index dim,
                              NoiseScheme scheme, VpSde sde, const io::LoadOptions& options) {
  if (model_dir.empty() == target.empty())
    throw SettingError("needs exactly one of --model DIR or --target NAME");
  LoadedScore src;
  if (!model_dir.empty()) {
    io::LoadedModel loaded = io::load_model(model_dir, options);
    src.model = std::move(loaded.model);
    src.noised = std::move(loaded.noised);
    src.meta = loaded.meta;
    src.noise = loaded.noise;
    // The model by content too: outputs say which fit made them, and a sample resumed against a
    // model refitted at the same path is refused (sample_checkpoint compares the description).
    src.description = {{"model", model_dir},
                       {"kind", src.model->kind()},
                       {"fingerprint", io::model_fingerprint(model_dir)}};
  } else {
    sde.validate();  // the noised laws of a target follow this VP SDE
    src.model = make_sized_target(target, dim);
    src.description = {{"target", target}, {"dim", dim}};
    if (const auto mixture = target_mixture(target, dim))
      src.noised = make_noised_mixture(*mixture, scheme, sde);
  }
  return src;
}

GaussianNoisedDefaults attach_gaussian_noised(LoadedScore& src) {
  if (!src.model) return {};
  const std::optional<GaussianParameters> g = src.model->gaussian();
  if (!g) return {};
  const Index d = g->mean.size();
  const Eigen::LLT<Matrix> llt(g->precision);
  if (llt.info() != Eigen::Success)
    throw Error("the Gaussian prior's precision matrix is not positive definite");
  Matrix covariance = llt.solve(Matrix::Identity(d, d));
  covariance = 0.5 * (covariance + covariance.transpose()).eval();  // exactly symmetric
  const double sigma_data = std::sqrt(covariance.trace() / static_cast<double>(d));
  if (src.noised) return {0, 0, sigma_data};  // a gaussian target's own laws: only its σ_d
  // Centred coordinates z = x − μ: the samplers' starting law is centred at the prior's mean.
  src.noised = make_noised_mixture({Vector::Ones(1), Matrix::Zero(1, d), covariance},
                                   NoiseScheme::sigma, VpSde{}, g->mean);
  // In an eigendirection of variance λ each reverse step maps a starting error e to e (λ + σ'²) /
  // (λ + σ²), which telescopes to (λ + σ_min²) / (λ + σ_max²): the start N(μ, σ_max² I) in place of
  // N(μ, C + σ_max² I) leaves a relative variance error of about (λ / σ_max²)², below 1e-4 for
  // σ_max = 10 √λ_max. The last step, Tweedie's denoiser at σ_min, keeps the fraction λ / (λ +
  // σ_min²) of a direction's variance: above 1 − 1e-4 for σ_min = 0.01 √λ_min.
  const Vector lambda = Eigen::SelfAdjointEigenSolver<Matrix>(covariance).eigenvalues();
  const double widest = std::max(lambda.maxCoeff(), 0.0),
               narrowest = std::max(lambda.minCoeff(), 0.0);
  return {std::max(10.0, 10.0 * std::sqrt(widest)), std::min(0.01, 0.01 * std::sqrt(narrowest)),
          sigma_data};
}

void check_data_fits_model(const LoadedScore& src, const io::DataInfo& data,
                           const std::string& path, const std::string& model_name) {
  if (src.model->dim() != data.cols())
    throw Error("dimension mismatch: " + model_name + " has dimension " +
                std::to_string(src.model->dim()) + " but '" + path + "' has " +
                std::to_string(data.cols()) + " columns");
  if (!src.meta.is_object() || !src.meta.contains("columns") || !src.meta["columns"].is_array())
    return;
  std::vector<std::string> model;
  for (const auto& c : src.meta["columns"])
    if (c.is_string()) model.push_back(c.get<std::string>());
  if (model.size() != data.columns.size() || model == data.columns) return;
  if (!std::is_permutation(model.begin(), model.end(), data.columns.begin())) return;
  const auto joined = [](const std::vector<std::string>& names) {
    std::string text;
    for (const std::string& n : names) text += (text.empty() ? "" : ",") + n;
    return text;
  };
  throw Error("'" + path + "' has the columns of " + model_name + " in another order (" +
              joined(data.columns) + "; it was fitted on " + joined(model) +
              "): reorder the columns");
}

void check_trained_level(const std::optional<NoiseProcess>& trained, double level,
                         const std::string& what) {
  if (!trained || trained->conditioning() == Conditioning::none) return;
  // σ ∈ [σ_min, σ_max] (VE), or t ∈ [t_eps, 1] (VP SDE).
  const bool time = trained->conditioning() == Conditioning::time;
  const double lo = time ? trained->t_eps : trained->sigma_min,
               hi = time ? 1.0 : trained->sigma_max;
  // A relative tolerance: levels computed as σ_y / scale may miss an end of the range by rounding.
  constexpr double kSlack = 1e-9;
  if (level >= lo * (1 - kSlack) && level <= hi * (1 + kSlack)) return;
  throw SettingError(
      what + " " + number_text(level) + " is outside the " + (time ? "times" : "noise levels") +
      " the model was trained on, [" + number_text(lo) + ", " + number_text(hi) + "]" +
      (time ? "" : " (model units)") + ": the network's score there is an extrapolation");
}

}  // namespace scorematch::app
