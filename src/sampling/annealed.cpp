// Annealed Langevin dynamics (Song & Ermon 2019, Alg. 1) in the noised score's coordinates.
// Levels σ_1 > … > σ_L geometric from σ_max to σ_min; T = steps per level; at level i
//   z ← z + α_i s(z; σ_i) + √(2α_i) ξ,   α_i = ε σ_i² / σ_L²
// (the scorematch ULA convention; NCSN writes α/2 and √α, i.e. its α is our 2α). With denoise on,
// the last step adds Tweedie's correction z + σ_L² s(z; σ_L) (Jolicoeur-Martineau et al. 2021),
// which removes the residual σ_L noise from the output.
#include <cmath>

#include "scorematch/core/error.hpp"
#include "scorematch/models/noise_process.hpp"
#include "scorematch/sampling/sampler.hpp"

namespace scorematch::samplers {

namespace {
class Annealed final : public Sampler {
 public:
  Annealed(const SamplerSettings& s, const NoisedScore& score) : Sampler(s), score_(score) {}
  std::string name() const override { return "annealed"; }
  Index dim() const override { return score_.dim(); }
  Index num_transitions() const override { return settings_.levels * settings_.steps; }
  Index draws_per_chain() const override { return 1; }
  Index draw_slot(Index step) const override { return step + 1 == num_transitions() ? 0 : -1; }
  bool uses_model_coordinates() const override { return true; }
  double prior_scale() const override { return settings_.sigma_max; }
  double divergence_bound() const override { return kNoisedDivergenceFactor * prior_scale(); }

  double sigma(Index level) const {
    return NoiseProcess::ladder_sigma(settings_.sigma_max, settings_.sigma_min, settings_.levels,
                                      level);
  }

  void transition(ChainBlock& b, Index step) const override {
    const double s_i = sigma(step / settings_.steps), s_l = settings_.sigma_min;
    const double alpha = settings_.step_size * s_i * s_i / (s_l * s_l);
    b.x += alpha * score_.score_at(b.x, s_i, b.first_chain) +
           std::sqrt(2.0 * alpha) * normals(b, step);
    if (settings_.denoise && step + 1 == num_transitions())
      b.x += s_l * s_l * score_.score_at(b.x, s_l, b.first_chain);
  }

 private:
  const NoisedScore& score_;
};
}  // namespace

static std::unique_ptr<Sampler> make_annealed(const SamplerSettings& s, const ScoreSource& source) {
  if (source.noised == nullptr || source.noised->scheme() != NoiseScheme::sigma)
    throw Error(
        "annealed needs the score of the noised law at every σ: a σ-conditioned model (fit " +
        setting("objective") + " dsm " + setting("noise") +
        " ladder) or a target whose noised score is closed-form (gaussian, gmm)");
  if (!(s.sigma_max > s.sigma_min && s.sigma_min > 0))
    throw SettingError("annealed needs 0 < " + setting("sigma_min") + " < " + setting("sigma_max"));
  // One level is Langevin at σ_min; σ_max is then only the chains' starting scale (prior_scale).
  if (s.levels < 1) throw InvalidSetting("levels", "be ≥ 1");
  return std::make_unique<Annealed>(s, *source.noised);
}

// ε = 0.2 σ_min², the step at σ_min (see resolve_step_size); 1e-2 while σ_min is unknown.
static double annealed_step(const SamplerSettings& s) {
  return s.sigma_min > 0 ? 0.2 * s.sigma_min * s.sigma_min : 1e-2;
}

SamplerDescriptor annealed() {
  return {"annealed",
          "annealed Langevin dynamics over a geometric sigma ladder (Song & Ermon 2019, Alg. 1)",
          SamplerInput::sigma_noised,
          {"step_size", "sigma_max", "sigma_min", "levels", "denoise"},
          /*posterior=*/true,
          annealed_step,
          make_annealed};
}

}  // namespace scorematch::samplers
