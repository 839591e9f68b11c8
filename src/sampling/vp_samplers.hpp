// Shared checks and the reverse-SDE Euler–Maruyama step of the VP-SDE samplers (sde, pc).
#pragma once
#include <cmath>

#include "scorematch/core/error.hpp"
#include "scorematch/sampling/sampler.hpp"
#include "scorematch/sampling/time_grid.hpp"

namespace scorematch::samplers {

inline const NoisedScore& require_vpsde(const ScoreSource& source, const std::string& sampler) {
  if (source.noised == nullptr || source.noised->scheme() != NoiseScheme::vpsde)
    throw Error(sampler +
                " needs the score of the VP-SDE marginals p_t: a time-conditioned model (fit " +
                setting("objective") + " dsm " + setting("noise") +
                " vpsde) or a target whose noised score is closed-form (gaussian, gmm)");
  return *source.noised;
}

// Base of the samplers on the reverse-time grid: one draw per chain, after the last step, in the
// noised score's coordinates, from the prior N(0, I) at t = 1.
class VpGridSampler : public Sampler {
 public:
  VpGridSampler(const SamplerSettings& s, const NoisedScore& score)
      : Sampler(s), score_(score), grid_(s.steps, s.t_eps) {}
  Index dim() const override { return score_.dim(); }
  Index num_transitions() const override { return grid_.n; }
  Index draws_per_chain() const override { return 1; }
  Index draw_slot(Index step) const override { return step + 1 == grid_.n ? 0 : -1; }
  bool uses_model_coordinates() const override { return true; }
  double divergence_bound() const override { return kNoisedDivergenceFactor * prior_scale(); }

 protected:
  bool is_last(Index step) const { return step + 1 == grid_.n; }
  const NoisedScore& score_;
  ReverseTimeGrid grid_;
};

// Reverse-time VP-SDE dx = [−½β x − β s(x, t)] dt + √β dw̄ (Anderson 1982; Song et al. 2021),
// one Euler–Maruyama step from t to t − Δt:
//   z ← z + (½β z + β s(z, t)) Δt + √(β Δt) ξ;   the last step returns the mean (no noise).
inline void reverse_sde_step(const NoisedScore& score, Matrix& z, double t, double dt,
                             const Matrix* xi) {
  const double beta = score.sde().beta(t);
  z += (0.5 * beta * dt) * z + (beta * dt) * score.score(z, t);
  if (xi != nullptr) z += std::sqrt(beta * dt) * *xi;
}

}  // namespace scorematch::samplers
