// Implicit score matching with the exact Laplacian / Jacobian trace (Hyvärinen 2005):
//   energy  ℓ = ½‖∇φ‖² − Δφ;        score  ℓ = Σᵢ ∂ᵢsᵢ + ½‖s‖².
// One jet sweep with the K = d identity tangents gives ∇φ (tangent outputs J_k = ∂_kφ) and
// Δφ (second-order output), or the Jacobian columns J_k = ∂_k s of a score model.
// Adjoints: energy ∂ℓ/∂J_k = J_k, ∂ℓ/∂L = −1; score ∂ℓ/∂s = s, ∂ℓ/∂(J_k)_k = 1.
#include "scorematch/core/error.hpp"
#include "scorematch/core/vector_math.hpp"
#include "scorematch/objectives/objective.hpp"

namespace scorematch {

namespace {
class Ism : public ObjectiveImpl<Ism> {
 public:
  std::string name() const override { return "ism"; }
  Index tangents(const MlpSpec& spec) const override { return spec.dim; }
  void check(const MlpSpec& spec) const override {
    objective_detail::require_unconditioned(spec, "ism");
  }

  template <class T>
  double run(const ObjectiveBatch<T>& batch) const {
    const MlpSpec& spec = *batch.spec;
    MlpJet<T>& jet = *batch.jet;
    const Index B = batch.x->rows(), d = spec.dim;
    const bool energy = spec.output == MlpOutput::energy;
    JetRequest<T> request;
    request.x = batch.x;
    request.tangents = d;
    request.diagonal_tangents = true;
    request.second_order = energy;
    jet.forward(batch.theta, request);
    const MatrixT<T>& out = jet.output();
    MatrixT<T> adj = MatrixT<T>::Zero(out.rows(), out.cols());
    double loss = 0.0;
    for (Index b = 0; b < B; ++b) {
      if (energy) {
        double half_sq = 0.0;
        for (Index k = 0; k < d; ++k) {
          const T g = out(jet.tangent_row(b, k), 0);
          half_sq += 0.5 * static_cast<double>(g) * static_cast<double>(g);
          adj(jet.tangent_row(b, k), 0) = g;
        }
        loss += half_sq - static_cast<double>(out(jet.second_row(b), 0));
        adj(jet.second_row(b), 0) = T(-1);
      } else {
        double trace = 0.0;
        for (Index k = 0; k < d; ++k) {
          trace += static_cast<double>(out(jet.tangent_row(b, k), k));
          adj(jet.tangent_row(b, k), k) = T(1);
        }
        loss += trace + 0.5 * vector_math::squared_norm(out.row(b).data(), out.cols());
        adj.row(b) = out.row(b);
      }
    }
    if (batch.grad) jet.reverse(batch.theta, adj, batch.grad);
    return loss;
  }
};
}  // namespace

std::unique_ptr<Objective> make_ism_objective(const ObjectiveSettings&) {
  return std::make_unique<Ism>();
}

}  // namespace scorematch
