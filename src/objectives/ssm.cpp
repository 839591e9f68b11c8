// Sliced score matching (Song, Garg, Shi & Ermon 2019) with m probes v per sample, Rademacher
// (±1) or standard Gaussian, so E[vvᵀ] = I and E[vᵀJv] = tr J (Hutchinson):
//   plain             ℓ = (1/m) Σ_k [v_kᵀ∇(v_kᵀs) + ½(v_kᵀs)²]
//   variance-reduced  ℓ = ½‖s‖² + (1/m) Σ_k v_kᵀ∇(v_kᵀs)     (the ½(vᵀs)² term in expectation)
// Score model: the jet tangents are J_k = (∇s)v_k, so v_kᵀ∇(v_kᵀs) = v_kᵀJ_k.
// Energy model: J_k = v_kᵀ∇φ and L = Σ_k v_kᵀ∇²φv_k, so v_kᵀ∇(v_kᵀs) = −v_kᵀ∇²φv_k and
//   plain ℓ = (1/m)(½Σ_k J_k² − L);  variance-reduced ℓ = ½‖∇φ‖² − L/m, where ½‖∇φ‖² enters
//   through one extra tangent u = ∇φ (held fixed, adjoint 1) that is excluded from L (weight 0).
#include "scorematch/core/error.hpp"
#include "scorematch/core/random_fill.hpp"
#include "scorematch/core/vector_math.hpp"
#include "scorematch/objectives/objective.hpp"

namespace scorematch {

namespace {
class Ssm : public ObjectiveImpl<Ssm> {
 public:
  explicit Ssm(const ObjectiveSettings& s)
      : m_(s.projections), gaussian_(s.probe == "gaussian"), reduced_(s.variance_reduced) {
    if (m_ < 1)
      throw SettingError("ssm needs at least one projection (" + setting("projections") + ")");
    // Rows per sample are 1 + m stacked tangents: bounded so the chunk arithmetic cannot overflow.
    if (m_ > (Index{1} << 30))
      throw InvalidSetting("projections", "be at most 2^30", std::to_string(m_));
    if (s.probe != "rademacher" && s.probe != "gaussian")
      throw SettingError(setting("probe") + ": unknown probe '" + s.probe +
                         "' (expected rademacher or gaussian)");
  }
  std::string name() const override { return "ssm"; }
  bool uses(const std::string& setting) const override {
    return setting == "projections" || setting == "probe" || setting == "variance_reduced";
  }
  Index tangents(const MlpSpec& spec) const override {
    return m_ + (reduced_ && spec.output == MlpOutput::energy ? 1 : 0);
  }
  void check(const MlpSpec& spec) const override {
    objective_detail::require_unconditioned(spec, "ssm");
  }

  template <class T>
  double run(const ObjectiveBatch<T>& batch) const {
    const MlpSpec& spec = *batch.spec;
    MlpJet<T>& jet = *batch.jet;
    const Index B = batch.x->rows(), d = spec.dim, K = tangents(spec);
    const bool energy = spec.output == MlpOutput::energy;
    const double inv_m = 1.0 / static_cast<double>(m_);

    // Row b's m projections are the first m·d draws of RandomStream(seed, stream[b], step), i.e.
    // rows b·K … b·K + m − 1 of v: one fill with row stride K·d (the reduced form's extra row per
    // sample, for ∇φ, is skipped and set below).
    MatrixT<T> v(B * K, d);
    if (gaussian_)
      fill_normal_rows(batch.seed, batch.streams, 0, batch.step, B, m_ * d, v.data(), K * d);
    else
      fill_rademacher_rows(batch.seed, batch.streams, 0, batch.step, B, m_ * d, v.data(), K * d);
    VectorT<T> weights = VectorT<T>::Ones(K);
    const JetRequest<T> plain = objective_detail::plain_request<T>(*batch.x, nullptr, nullptr);
    MatrixT<T> grad_phi;
    if (energy && reduced_) {
      grad_phi = objective_detail::energy_gradient(jet, batch.theta, plain, /*extend_later=*/true);
      for (Index b = 0; b < B; ++b) v.row(b * K + m_) = grad_phi.row(b);
      weights[m_] = T(0);
    }
    JetRequest<T> request = plain;
    request.tangents = K;
    request.explicit_tangents = &v;
    request.second_order = energy;
    request.second_weights = &weights;
    if (energy && reduced_)
      jet.extend(batch.theta, request);  // reuses the value sweep of ∇φ
    else
      jet.forward(batch.theta, request);
    const MatrixT<T>& out = jet.output();
    MatrixT<T> adj = MatrixT<T>::Zero(out.rows(), out.cols());
    double loss = 0.0;
    for (Index b = 0; b < B; ++b) {
      if (energy) {
        loss -= inv_m * static_cast<double>(out(jet.second_row(b), 0));
        adj(jet.second_row(b), 0) = static_cast<T>(-inv_m);
        if (reduced_) {
          loss += 0.5 * vector_math::squared_norm(grad_phi.row(b).data(), grad_phi.cols());
          adj(jet.tangent_row(b, m_), 0) = T(1);
        } else {
          for (Index k = 0; k < m_; ++k) {
            const T jk = out(jet.tangent_row(b, k), 0);
            loss += 0.5 * inv_m * static_cast<double>(jk) * static_cast<double>(jk);
            adj(jet.tangent_row(b, k), 0) = static_cast<T>(inv_m) * jk;
          }
        }
        continue;
      }
      const auto s = out.row(b);
      if (reduced_) {
        loss += 0.5 * vector_math::squared_norm(s.data(), s.size());
        adj.row(b) = s;
      }
      for (Index k = 0; k < m_; ++k) {
        const auto vk = v.row(b * K + k);
        loss += inv_m * static_cast<double>(vk.dot(out.row(jet.tangent_row(b, k))));
        adj.row(jet.tangent_row(b, k)) = static_cast<T>(inv_m) * vk;
        if (!reduced_) {
          const T proj = vk.dot(s);
          loss += 0.5 * inv_m * static_cast<double>(proj) * static_cast<double>(proj);
          adj.row(b) += static_cast<T>(inv_m) * proj * vk;
        }
      }
    }
    if (batch.grad) jet.reverse(batch.theta, adj, batch.grad);
    return loss;
  }

 private:
  Index m_;
  bool gaussian_, reduced_;
};
}  // namespace

std::unique_ptr<Objective> make_ssm_objective(const ObjectiveSettings& s) {
  return std::make_unique<Ssm>(s);
}

}  // namespace scorematch
