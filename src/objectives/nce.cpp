// Noise-contrastive estimation of an energy network (Gutmann & Hyvärinen 2010, 2012), the
// log-normaliser absorbed in the network's output bias (the model is log p = −φ̃(z), its
// normalisation learned with it; Mnih & Teh 2012 use the same device). In the network's
// standardised coordinates z, each data row z_b is contrasted with ν noise rows y_bk ~ q = N(0, I)
// (the diagonal Gaussian fitted to the data, whose log-density is exact):
//   G(z) = −φ̃(z) − log q(z),   η = G − log ν,   h = σ(η),
//   ℓ_b = softplus(−η(z_b)) + Σ_k softplus(η(y_bk))     (= −log h(z_b) − Σ_k log(1 − h(y_bk))).
// Adjoints ∂ℓ/∂φ̃: (1 − h) at the data row, −h at each noise row; one value sweep over the stacked
// B(1 + ν) rows and one reverse sweep give the θ-gradient. The noise of row b comes from
// RandomStream(derive_seed(seed, kNceNoiseTag), stream[b], step): ν·d normals in order.
#include <cmath>
#include <numbers>

#include "scorematch/core/error.hpp"
#include "scorematch/core/random_stream.hpp"
#include "scorematch/objectives/nce_terms.hpp"
#include "scorematch/objectives/objective.hpp"

namespace scorematch {

namespace {

class Nce : public ObjectiveImpl<Nce> {
 public:
  explicit Nce(const ObjectiveSettings& s) : ratio_(s.noise_ratio) {
    if (s.noise != "single" && s.noise != "gaussian")
      throw InvalidSetting("noise",
                           "be gaussian for nce with a network (uniform noise needs "
                           "the data's bounding box: fit poly:K for it)",
                           s.noise);
    if (ratio_ < 1) throw InvalidSetting("noise_ratio", "be at least 1", std::to_string(ratio_));
    // Rows per sample are 1 + ν: bounded so the chunk arithmetic cannot overflow.
    if (ratio_ > (Index{1} << 30))
      throw InvalidSetting("noise_ratio", "be at most 2^30", std::to_string(ratio_));
  }
  std::string name() const override { return "nce"; }
  bool uses(const std::string& setting) const override {
    return setting == "noise" || setting == "noise_ratio";
  }
  std::string description() const override { return "nce"; }
  // Rows per sample in the stacked sweep: 1 + ν (the chunking counts 1 + tangents).
  Index tangents(const MlpSpec&) const override { return ratio_; }
  void check(const MlpSpec& spec) const override {
    objective_detail::require_unconditioned(spec, "nce");
    if (spec.output != MlpOutput::energy)
      throw SettingError(
          "nce classifies by the log-density, so it needs an energy model (--model "
          "mlp-energy), not a score network");
  }

  template <class T>
  double run(const ObjectiveBatch<T>& batch) const {
    const MlpSpec& spec = *batch.spec;
    MlpJet<T>& jet = *batch.jet;
    const Index B = batch.x->rows(), d = spec.dim, rows = B * (1 + ratio_);
    MatrixT<T> z(rows, d);
    z.topRows(B) = *batch.x;
    const std::uint64_t key = derive_seed(batch.seed, kNceNoiseTag);
    for (Index b = 0; b < B; ++b) {
      RandomStream rng(key, batch.streams[b], batch.step);
      for (Index k = 0; k < ratio_; ++k)
        for (Index j = 0; j < d; ++j) z(B + b * ratio_ + k, j) = static_cast<T>(rng.normal());
    }
    jet.forward(batch.theta, objective_detail::plain_request<T>(z, nullptr, nullptr));
    const MatrixT<T>& phi = jet.output();
    const double log_nu = std::log(static_cast<double>(ratio_));
    const double log_norm = 0.5 * static_cast<double>(d) * std::log(2 * std::numbers::pi);
    MatrixT<T> adj(rows, 1);
    double loss = 0.0;
    for (Index r = 0; r < rows; ++r) {
      const double log_q =
          -0.5 * static_cast<double>(z.row(r).template cast<double>().squaredNorm()) - log_norm;
      const double eta = -static_cast<double>(phi(r, 0)) - log_q - log_nu;
      const double h = 1.0 / (1.0 + std::exp(-eta));
      const bool data = r < B;
      loss += data ? softplus(-eta) : softplus(eta);
      adj(r, 0) = static_cast<T>(data ? 1.0 - h : -h);
    }
    if (batch.grad) jet.reverse(batch.theta, adj, batch.grad);
    return loss;
  }

 private:
  Index ratio_;
};
}  // namespace

std::unique_ptr<Objective> make_nce_objective(const ObjectiveSettings& s) {
  return std::make_unique<Nce>(s);
}

}  // namespace scorematch
