// Sampler registry and shared helpers.
#include "scorematch/sampling/sampler.hpp"

#include <cmath>
#include <functional>
#include <map>

#include "scorematch/core/error.hpp"
#include "scorematch/core/random_fill.hpp"

namespace scorematch {

namespace {
using Factory = std::function<std::unique_ptr<Sampler>(const SamplerSettings&, const ScoreSource&)>;
const std::map<std::string, Factory>& registry() {
  static const std::map<std::string, Factory> table{
      {"ula", samplers::make_ula},           {"mala", samplers::make_mala},
      {"annealed", samplers::make_annealed}, {"sde", samplers::make_reverse_sde},
      {"ode", samplers::make_flow_ode},      {"pc", samplers::make_predictor_corrector},
  };
  return table;
}
}  // namespace

std::vector<std::string> sampler_names() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : registry()) names.push_back(name);
  return names;
}

SamplerSettings resolve_step_size(SamplerSettings s) {
  if (s.step_size != 0) return s;
  s.step_size = s.name == "annealed" && s.sigma_min > 0 ? 0.2 * s.sigma_min * s.sigma_min : 1e-2;
  return s;
}

std::unique_ptr<Sampler> make_sampler(const SamplerSettings& settings, const ScoreSource& source) {
  const SamplerSettings s = resolve_step_size(settings);
  auto it = registry().find(s.name);
  if (it == registry().end()) {
    std::string known;
    for (const auto& n : sampler_names()) known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown sampler '" + s.name + "' (expected one of: " + known + ")");
  }
  if (s.steps < 1) throw Error("--steps must be ≥ 1");
  if (s.warmup < 0) throw Error("--warmup must be ≥ 0");
  if (s.thin < 1) throw Error("--thin must be ≥ 1");
  if (!(s.step_size > 0) || !std::isfinite(s.step_size))
    throw Error("--step-size must be positive and finite");
  std::unique_ptr<Sampler> sampler = it->second(s, source);
  if (sampler->draws_per_chain() < 1)
    throw Error("--thin " + std::to_string(s.thin) + " keeps no draw of --steps " +
                std::to_string(s.steps) + " (thin must be at most the number of kept steps)");
  return sampler;
}

void check_metric(const SamplerSettings& s, Index dim) {
  if (s.metric.size() == 0) return;
  if (s.metric.size() != dim || !s.metric.allFinite() || !(s.metric.array() > 0).all())
    throw Error("the preconditioner needs " + std::to_string(dim) +
                " positive finite scales, got " + std::to_string(s.metric.size()));
}

Matrix Sampler::normals(const ChainBlock& block, Index step, Index count) const {
  Matrix xi(block.x.rows(), count < 0 ? block.x.cols() : count);
  fill_normal_rows(derive_seed(settings_.seed, kTransitionTag), nullptr,
                   static_cast<std::uint64_t>(block.first_chain), static_cast<std::uint32_t>(step),
                   xi.rows(), xi.cols(), xi.data(), xi.cols());
  return xi;
}

}  // namespace scorematch
