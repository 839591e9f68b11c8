// pc: predictor–corrector sampling (Song et al. 2021, Alg. 5 for the VP-SDE). At each grid time
// t_i, M corrector steps of Langevin dynamics on p_{t_i}, then one reverse-SDE predictor step:
//   g = s(z, t_i), ξ ~ N(0, I),  ε = 2 a_i (r ‖ξ‖ / ‖g‖)²,  z ← z + ε g + √(2ε) ξ
// with a_i = 1 − β(t_i)Δt (the discrete VP α_i) and signal-to-noise ratio r (the step and its
// block-wide norms: snr_corrector.hpp).
#include "snr_corrector.hpp"
#include "vp_samplers.hpp"

#include <cmath>
#include <string>

namespace scorematch::samplers {

namespace {
class PredictorCorrector final : public VpGridSampler {
 public:
  using VpGridSampler::VpGridSampler;
  std::string name() const override { return "pc"; }

  void transition(ChainBlock& b, Index step) const override {
    const Index d = dim(), m = settings_.corrector_steps;
    const double t = grid_.t(step), dt = grid_.dt;
    const double a = 1.0 - score_.sde().beta(t) * dt;
    // One stream per (chain, step): M corrector noises, then the predictor's.
    const Matrix all = normals(b, step, (m + 1) * d);
    std::vector<Matrix> xi(static_cast<std::size_t>(m + 1));
    for (Index c = 0; c <= m; ++c) xi[static_cast<std::size_t>(c)] = all.middleCols(c * d, d);
    for (Index c = 0; c < m; ++c)
      snr_langevin_step(b.x, score_.score(b.x, t), xi[static_cast<std::size_t>(c)], settings_.snr,
                        a);
    const bool last = is_last(step);
    reverse_sde_step(score_, b.x, t, dt, last ? nullptr : &xi.back());
  }
};
}  // namespace

static std::unique_ptr<Sampler> make_predictor_corrector(const SamplerSettings& s,
                                                         const ScoreSource& source) {
  const NoisedScore& score = require_vpsde(source, "pc");
  if (s.corrector_steps < 0) throw InvalidSetting("corrector_steps", "be ≥ 0");
  if (!(s.snr > 0)) throw InvalidSetting("snr", "be positive");
  if (!(s.t_eps > 0 && s.t_eps < 1)) throw InvalidSetting("t_eps", "lie in (0, 1)");
  // The corrector's a_i = 1 − β(t_i)Δt must stay positive: β_max Δt < 1 with Δt = (1 − t_eps)/N.
  const double beta_max = score.sde().beta(1.0),
               dt = (1.0 - s.t_eps) / static_cast<double>(s.steps);
  if (s.corrector_steps > 0 && !(beta_max * dt < 1.0))
    throw SettingError(
        "pc needs more than beta_max (1 - t_eps) = " +
        std::to_string(static_cast<long long>(std::floor(beta_max * (1.0 - s.t_eps)))) +
        " steps (its corrector step 1 - beta(t) dt must stay positive), got " + setting("steps") +
        " " + std::to_string(s.steps));
  return std::make_unique<PredictorCorrector>(s, score);
}

SamplerDescriptor predictor_corrector() {
  return {"pc",
          "predictor-corrector: reverse-SDE step + Langevin corrector at a signal-to-noise ratio "
          "(Song et al. 2021, Alg. 5)",
          SamplerInput::time_noised,
          {"t_eps", "beta_min", "beta_max", "snr", "corrector_steps"},
          /*posterior=*/false,
          nullptr,
          make_predictor_corrector};
}

}  // namespace scorematch::samplers
