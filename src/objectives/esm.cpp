// Explicit score matching against a known target score s* (synthetic targets):
//   ℓ = ½‖sθ(x) − s*(x)‖².
// Score model: ∂ℓ/∂s = s − s*, one plain forward/backward sweep.
// Energy model (s = −∇φ): ℓ = ½‖g + s*‖² with g = ∇φ; its θ-gradient is that of uᵀ∇φ with
// u = g + s* held fixed (reverse mode through the value and gradient sweeps:
// MlpJet::add_directional_theta_gradient).
#include "scorematch/core/error.hpp"
#include "scorematch/core/vector_math.hpp"
#include "scorematch/objectives/objective.hpp"

namespace scorematch {

namespace {
class Esm : public ObjectiveImpl<Esm> {
 public:
  std::string name() const override { return "esm"; }
  bool uses(const std::string& setting) const override { return setting == "target"; }
  bool needs_target_score() const override { return true; }
  Index tangents(const MlpSpec&) const override { return 0; }
  void check(const MlpSpec& spec) const override {
    objective_detail::require_unconditioned(spec, "esm");
  }

  template <class T>
  double run(const ObjectiveBatch<T>& batch) const {
    if (!batch.target_score) throw Error("esm needs the target score (" + setting("target") + ")");
    MlpJet<T>& jet = *batch.jet;
    const MatrixT<T>& target = *batch.target_score;
    const JetRequest<T> plain = objective_detail::plain_request<T>(*batch.x, nullptr, nullptr);
    if (batch.spec->output == MlpOutput::score) {
      jet.forward(batch.theta, plain);
      const MatrixT<T> residual = jet.output() - target;
      if (batch.grad) jet.reverse(batch.theta, residual, batch.grad);
      return 0.5 * vector_math::squared_norm(residual.data(), residual.size());
    }
    const MatrixT<T> u =
        objective_detail::energy_gradient(jet, batch.theta, plain, batch.grad != nullptr) + target;
    if (batch.grad)
      objective_detail::add_directional_theta_gradient(jet, batch.theta, u, batch.grad);
    return 0.5 * vector_math::squared_norm(u.data(), u.size());
  }
};
}  // namespace

std::unique_ptr<Objective> make_esm_objective(const ObjectiveSettings&) {
  return std::make_unique<Esm>();
}

}  // namespace scorematch
