#include "scorematch/models/mlp.hpp"

#include <string>

#include "scorematch/core/error.hpp"
#include "scorematch/core/random_stream.hpp"

namespace scorematch {

Index MlpSpec::weight_offset(Index l) const {
  Index offset = 0;
  for (Index k = 0; k < l; ++k) offset += layer_out(k) * (layer_in(k) + 1);
  return offset;
}

void MlpSpec::validate() const {
  if (dim < 1) throw Error("MLP input dimension must be at least 1");
  if (hidden.empty())
    throw SettingError("MLP needs at least one hidden layer (" + setting("hidden") + ")");
  if (output == MlpOutput::decoder && out_dim < 1)
    throw Error("an MLP decoder needs an output dimension of at least 1");
  for (Index w : hidden)
    if (w < 1) throw SettingError("MLP hidden widths must be positive (" + setting("hidden") + ")");
  if (embedding < 0 || embedding > 64)
    throw SettingError("the conditioning embedding needs 0 to 64 frequencies (" +
                       setting("embedding") + ")");
  if (embedding > 0 && conditioning == Conditioning::none)
    throw SettingError("a conditioning embedding (" + setting("embedding") +
                       ") needs a noise-conditioned model (dsm with noise ladder, vesde or vpsde)");
  if (residual) {
    if (output == MlpOutput::energy)
      throw SettingError("residual blocks (" + setting("residual") +
                         ") are for mlp-score networks, not mlp-energy (the energy's "
                         "input-gradient sweep has no skip)");
    if (hidden.size() < 2)
      throw SettingError("residual blocks (" + setting("residual") +
                         ") need at least two hidden layers (the first one has no skip)");
    for (Index w : hidden)
      if (w != hidden.front())
        throw SettingError("residual blocks (" + setting("residual") +
                           ") need equal hidden widths (" + setting("hidden") + "), got " +
                           std::to_string(w) + " after " + std::to_string(hidden.front()));
  }
  if (precondition == Precondition::edm &&
      (conditioning != Conditioning::sigma || output != MlpOutput::score))
    throw SettingError(
        "edm preconditioning (" + setting("precondition") +
        ") is for sigma-conditioned score networks: mlp-score with dsm noise ladder or "
        "vesde");
  if (precondition == Precondition::edm && !(sigma_data > 0 && std::isfinite(sigma_data)))
    throw Error(
        "edm preconditioning needs a positive, finite sigma_data (the data's spread), got " +
        std::to_string(sigma_data));
  if (conditioning == Conditioning::time) sde.validate();
}

void VpSde::validate() const {
  if (!(beta_min > 0 && std::isfinite(beta_min)))
    throw InvalidSetting("beta_min", "be positive and finite (VP SDE)", number_text(beta_min));
  if (!(beta_max > beta_min && std::isfinite(beta_max)))
    throw InvalidSetting(
        "beta_max", "be finite and exceed " + setting("beta_min") + " " + number_text(beta_min),
        number_text(beta_max));
}

std::string conditioning_name(Conditioning c) {
  switch (c) {
    case Conditioning::none:
      return "none";
    case Conditioning::sigma:
      return "sigma";
    case Conditioning::time:
      return "time";
  }
  return "none";
}

Conditioning parse_conditioning(const std::string& name) {
  if (name == "none") return Conditioning::none;
  if (name == "sigma") return Conditioning::sigma;
  if (name == "time") return Conditioning::time;
  throw SettingError(setting("conditioning") + ": unknown conditioning '" + name +
                     "' (expected none, sigma or time)");
}

std::string precondition_name(Precondition p) {
  return p == Precondition::edm ? "edm" : "none";
}

Precondition parse_precondition(const std::string& name) {
  if (name == "none") return Precondition::none;
  if (name == "edm") return Precondition::edm;
  throw SettingError(setting("precondition") + ": unknown preconditioning '" + name +
                     "' (expected none or edm)");
}

ConditioningValues conditioning_values(const MlpSpec& spec, double level) {
  switch (spec.conditioning) {
    case Conditioning::none:
      return {};
    case Conditioning::sigma:
      if (spec.precondition == Precondition::edm) {  // Karras et al. 2022 (see mlp.hpp)
        const double sd2 = spec.sigma_data * spec.sigma_data, v = level * level + sd2;
        return {std::log(level), spec.sigma_data / (level * std::sqrt(v)), 1.0 / std::sqrt(v),
                1.0 / v, v / sd2};
      }
      return {std::log(level), 1.0 / level};
    case Conditioning::time:
      return {level, 1.0 / spec.sde.sigma(level)};
  }
  return {};
}

Vector init_mlp_parameters(const MlpSpec& spec, std::uint64_t seed) {
  spec.validate();
  Vector theta = Vector::Zero(spec.num_parameters());
  for (Index l = 0; l < spec.num_layers(); ++l) {
    RandomStream rng(seed, static_cast<std::uint64_t>(l));
    const double sd = 1.0 / std::sqrt(static_cast<double>(spec.layer_in(l)));
    double* w = theta.data() + spec.weight_offset(l);
    for (Index i = 0; i < spec.layer_out(l) * spec.layer_in(l); ++i) w[i] = sd * rng.normal();
  }
  return theta;
}

Vector mlp_theta_from_arrays(const MlpSpec& spec, const NamedArrays& arrays) {
  const std::string kind = spec.kind();
  Vector theta(spec.num_parameters());
  for (Index l = 0; l < spec.num_layers(); ++l) {
    const std::string w = "W" + std::to_string(l), b = "b" + std::to_string(l);
    const Matrix W = require_array(arrays, w, kind).to_matrix(w);
    const Vector bias = require_array(arrays, b, kind).to_vector(b);
    if (W.rows() != spec.layer_out(l) || W.cols() != spec.layer_in(l) ||
        bias.size() != spec.layer_out(l))
      throw Error("array '" + w + "' or '" + b + "' has a shape that does not match meta.json (" +
                  std::to_string(spec.layer_out(l)) + " x " + std::to_string(spec.layer_in(l)) +
                  ")");
    Eigen::Map<Matrix>(theta.data() + spec.weight_offset(l), W.rows(), W.cols()) = W;
    theta.segment(spec.bias_offset(l), bias.size()) = bias;
  }
  if (!theta.allFinite()) throw Error(kind + " parameters contain NaN or Inf");
  return theta;
}

NamedArrays mlp_arrays(const MlpSpec& spec, const Vector& theta) {
  NamedArrays a;
  for (Index l = 0; l < spec.num_layers(); ++l) {
    a["W" + std::to_string(l)] = Array::from(Matrix(Eigen::Map<const Matrix>(
        theta.data() + spec.weight_offset(l), spec.layer_out(l), spec.layer_in(l))));
    a["b" + std::to_string(l)] =
        Array::from(Vector(theta.segment(spec.bias_offset(l), spec.layer_out(l))));
  }
  return a;
}

}  // namespace scorematch
