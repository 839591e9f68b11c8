// ode: the probability-flow ODE of the VP-SDE (Song et al. 2021, eq. 13)
//   dz/dt = f(z, t) = −½ β(t) (z + s(z, t)),
// integrated from t = 1 (prior N(0, I)) to t_eps by Heun's method (explicit trapezoid):
//   k₁ = f(z, t), k₂ = f(z − Δt k₁, t − Δt), z ← z − ½Δt (k₁ + k₂).
// The map is deterministic; the only randomness is the prior draw.
#include "vp_samplers.hpp"

namespace scorematch::samplers {

namespace {
class FlowOde final : public VpGridSampler {
 public:
  using VpGridSampler::VpGridSampler;
  std::string name() const override { return "ode"; }
  void transition(ChainBlock& b, Index step) const override {
    const double t = grid_.t(step), dt = grid_.dt;
    const Matrix k1 = drift(b.x, t);
    const Matrix k2 = drift(b.x - dt * k1, t - dt);
    b.x -= 0.5 * dt * (k1 + k2);
  }

 private:
  Matrix drift(const Matrix& z, double t) const {
    return -0.5 * score_.sde().beta(t) * (z + score_.score(z, t));
  }
};
}  // namespace

static std::unique_ptr<Sampler> make_flow_ode(const SamplerSettings& s, const ScoreSource& source) {
  return std::make_unique<FlowOde>(s, require_vpsde(source, "ode"));
}

SamplerDescriptor flow_ode() {
  return {"ode",
          "probability-flow ODE of the VP-SDE (Song et al. 2021)",
          SamplerInput::time_noised,
          {"t_eps", "beta_min", "beta_max"},
          /*posterior=*/false,
          nullptr,
          make_flow_ode};
}

}  // namespace scorematch::samplers
