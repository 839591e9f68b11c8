// Sampler registry and shared helpers.
#include "scorematch/sampling/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "scorematch/core/error.hpp"
#include "scorematch/core/random_fill.hpp"

namespace scorematch {

const std::vector<SamplerDescriptor>& sampler_registry() {
  static const std::vector<SamplerDescriptor> table{
      samplers::ula(),
      samplers::mala(),
      samplers::annealed(),
      samplers::reverse_sde(),
      samplers::flow_ode(),
      samplers::predictor_corrector(),
      samplers::hmc(),
      samplers::parallel_tempering(),
      samplers::ve_predictor_corrector(),
  };
  return table;
}

bool SamplerDescriptor::uses(const std::string& setting) const {
  return std::find(settings.begin(), settings.end(), setting) != settings.end();
}

const SamplerDescriptor& find_sampler(const std::string& name) {
  for (const SamplerDescriptor& d : sampler_registry())
    if (d.name == name) return d;
  std::string known;
  for (const auto& n : sampler_names()) known += (known.empty() ? "" : ", ") + n;
  throw SettingError(setting("sampler") + ": unknown sampler '" + name +
                     "' (expected one of: " + known + ")");
}

std::vector<std::string> sampler_names() {
  std::vector<std::string> names;
  for (const SamplerDescriptor& d : sampler_registry()) names.push_back(d.name);
  std::sort(names.begin(), names.end());  // the order of the messages users have seen
  return names;
}

SamplerSettings resolve_step_size(SamplerSettings s) {
  const SamplerDescriptor& d = find_sampler(s.name);
  if (s.target_accept == 0) s.target_accept = d.default_target_accept;
  if (s.step_size != 0) return s;
  s.step_size = d.default_step_size != nullptr ? d.default_step_size(s) : 1e-2;
  return s;
}

std::unique_ptr<Sampler> make_sampler(const SamplerSettings& settings, const ScoreSource& source) {
  const SamplerDescriptor& descriptor = find_sampler(settings.name);
  const SamplerSettings s = resolve_step_size(settings);
  if (s.steps < 1) throw InvalidSetting("steps", "be ≥ 1");
  if (s.warmup < 0) throw InvalidSetting("warmup", "be ≥ 0");
  if (s.thin < 1) throw InvalidSetting("thin", "be ≥ 1");
  // Counts stay below 2^31 (check_loop_count), so that their sums and products cannot overflow
  // before the 32-bit step counter of the noise streams (kTransitionTag's step word) refuses the
  // total.
  for (const auto& [key, value] : {std::pair<const char*, Index>{"steps", s.steps},
                                   {"warmup", s.warmup},
                                   {"thin", s.thin},
                                   {"levels", s.levels},
                                   {"corrector_steps", s.corrector_steps},
                                   {"leapfrog_steps", s.leapfrog_steps},
                                   {"replicas", s.replicas}})
    check_loop_count(key, value);
  if (!(s.step_size > 0) || !std::isfinite(s.step_size)) {
    if (settings.step_size == 0)  // not given: the sampler's default rule made it
      throw SettingError("the default " + setting("step_size") + " of " + s.name + " is " +
                         number_text(s.step_size) +
                         " for these settings (e.g. 0.2 sigma_min^2 for annealed): set it, or a "
                         "larger " +
                         setting("sigma_min"));
    throw InvalidSetting("step_size", "be positive and finite");
  }
  std::unique_ptr<Sampler> sampler = descriptor.make(s, source);
  if (sampler->draws_per_chain() < 1)
    throw SettingError(setting("thin") + " " + std::to_string(s.thin) + " keeps no draw of " +
                       setting("steps") + " " + std::to_string(s.steps) +
                       " (thin must be at most the number of kept steps)");
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
