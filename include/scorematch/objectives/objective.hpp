// Score-matching objectives for MLP models: per batch, the summed per-sample loss and its
// θ-gradient. Each objective is one file in src/objectives/ plus one line in the registry
// (src/objectives/objective.cpp). All randomness (SSM probes, DSM noise levels and ε) comes from
// RandomStream(seed, stream[b], step), where stream[b] is the global minibatch slot of row b, so a
// loss never depends on how rows are split over ranks or threads.
//
//   esm  ½‖sθ(x) − s*(x)‖²                                         (known target score s*)
//   ism  Σᵢ ∂ᵢsθ,ᵢ + ½‖sθ‖²; for energies ½‖∇φ‖² − Δφ (Hyvärinen 2005), exact via jets
//   ssm  vᵀ∇(vᵀsθ) + ½(vᵀsθ)², or variance-reduced ½‖sθ‖² + vᵀ∇(vᵀsθ), mean over m probes
//        (Song, Garg, Shi & Ermon 2019)
//   dsm  λ(σ)·½‖sθ(x̃, σ) + ε/σ‖², x̃ = x + σε, λ = σ² (Vincent 2011; NCSN ladder, Song & Ermon
//        2019); VP-SDE: x̃ = α(t)x + σ(t)ε, t ~ U[t_eps, 1] (Song et al. 2021)
//   nce  softplus(−η(x)) + Σ_k softplus(η(y_k)), η = −φ − log q − log ν, y_k ~ q = N(0, I):
//        noise-contrastive estimation, the normaliser in the output bias (Gutmann & Hyvärinen
//        2012; energies only)
//
// Energy models s = −∇φ: a loss term f(∇φ) has θ-gradient (∂f/∂g)·∂g/∂θ, which is the θ-gradient
// of the directional derivative uᵀ∇φ with u = ∂f/∂g held fixed: DSM and ESM differentiate the
// value and gradient sweeps in reverse (MlpJet::add_directional_theta_gradient); the
// variance-reduced SSM adds ∇φ as one more tangent of its second-order jet (MlpJet::extend).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scorematch/core/error.hpp"
#include "scorematch/jets/mlp_jet.hpp"
#include "scorematch/models/noise_process.hpp"

namespace scorematch {

// Upper bound of ObjectiveSettings::consistency_steps: each step is one more forward sweep of the
// teacher over every training row, so a step's cost grows linearly in K (K = 4 took 1.5 times
// K = 1's wall time in the optdigits fine-tune, docs/OPTDIGITS.md).
inline constexpr Index kMaxConsistencySteps = 64;

template <class T>
struct ObjectiveBatch {
  const MlpSpec* spec = nullptr;
  const T* theta = nullptr;
  const MatrixT<T>* x = nullptr;           // B × d inputs (the model's own units)
  const std::uint64_t* streams = nullptr;  // B random-stream indices
  std::uint64_t seed = 0;
  std::uint32_t step = 0;
  const MatrixT<T>* target_score = nullptr;  // B × d, ESM only
  T* grad = nullptr;                         // += Σ_b ∂loss_b/∂θ when non-null
  MlpJet<T>* jet = nullptr;                  // scratch space
  // A training step's evaluation: regularisers that only act in training (dsm's dropout) are
  // on. Validation losses and evaluations of a fitted model leave it false.
  bool train = false;
  // The teacher network's parameters (dsm consistency's target; the trainer passes the EMA of
  // the weights, as the mean teacher of Tarvainen & Valpola 2017 and Song et al. 2023's
  // consistency training); null: θ itself.
  const T* teacher = nullptr;
};

struct ObjectiveSettings {
  std::string name = "ism";
  // ssm
  Index projections = 1;
  std::string probe = "rademacher";  // or "gaussian"
  bool variance_reduced = false;
  // dsm
  std::string noise = "single";  // single | ladder | vpsde
  double sigma = 0.1;            // single
  double sigma_min = 0.01, sigma_max = 1.0;
  Index levels = 10;    // ladder
  double t_eps = 1e-3;  // vpsde: t ~ U[t_eps, 1]
  // vesde: the density of σ in training (objectives/sigma_density.hpp): "log-uniform" on
  // [sigma_min, sigma_max] or "lognormal", log σ ~ N(p_mean, p_std²) (Karras et al. 2022)
  std::string sigma_density = "log-uniform";
  double p_mean = -1.2, p_std = 1.2;
  // Hidden-unit dropout rate p ∈ [0, 0.95] of score MLPs in training steps
  // (objectives/dropout.hpp).
  double dropout = 0.0;
  // dsm vesde, score models: weight λ ≥ 0 of the consistency term (src/objectives/dsm.cpp; Daras
  // et al. 2023), training steps only.
  double consistency = 0.0;
  // Ancestral steps K ∈ [1, kMaxConsistencySteps] from σ to σ' of that term's target (K + 1
  // teacher evaluations per training row).
  Index consistency_steps = 1;
  // nce (the polynomial family, estimators/polynomial_nce.hpp): noise rows per data row; its
  // noise distribution is `noise` (gaussian | uniform; "single", the default, means gaussian)
  Index noise_ratio = 10;

  // The dsm noise process these settings describe (models/noise_process.hpp); throws Error for
  // an unknown noise name. β(t) of the VP SDE belongs to the network (MlpSpec::sde).
  NoiseProcess noise_process() const {
    NoiseProcess p;
    p.kind = parse_noise_kind(noise);
    p.sigma = sigma;
    p.sigma_min = sigma_min;
    p.sigma_max = sigma_max;
    p.levels = levels;
    p.t_eps = t_eps;
    return p;
  }
};

class Objective {
 public:
  virtual ~Objective() = default;
  virtual std::string name() const = 0;
  // Σ_b loss_b over the batch (and its θ-gradient into batch.grad).
  virtual double evaluate(const ObjectiveBatch<double>& batch) const = 0;
  virtual double evaluate(const ObjectiveBatch<float>& batch) const = 0;
  // Throws Error when the model cannot be trained with this objective.
  virtual void check(const MlpSpec& spec) const { (void)spec; }
  virtual bool needs_target_score() const { return false; }
  // Whether it reads ObjectiveBatch::teacher (dsm consistency), so that a trainer passes (and,
  // in float32, rounds) the EMA weights only when they are used.
  virtual bool needs_teacher() const { return false; }
  // Whether it reads a setting of ObjectiveSettings beyond its name (by field name: "projections",
  // "probe", "variance_reduced", "noise", "sigma", …, "target" for ESM's analytic target), so that
  // a front end can refuse a setting the chosen objective would ignore.
  virtual bool uses(const std::string& setting) const {
    (void)setting;
    return false;
  }
  // "dsm with noise 'ladder'": what the objective is, for such messages.
  virtual std::string description() const { return name(); }
  // The noise process of a denoising objective (the model trained by it is conditioned on it).
  virtual std::optional<NoiseProcess> noise() const { return std::nullopt; }
  // Tangents per sample in the jets (chooses the batch chunk size).
  virtual Index tangents(const MlpSpec& spec) const = 0;
};

// CRTP: forwards both precisions to Derived::template run<T>.
template <class Derived>
class ObjectiveImpl : public Objective {
 public:
  double evaluate(const ObjectiveBatch<double>& b) const override {
    return static_cast<const Derived*>(this)->run(b);
  }
  double evaluate(const ObjectiveBatch<float>& b) const override {
    return static_cast<const Derived*>(this)->run(b);
  }
};

std::unique_ptr<Objective> make_esm_objective(const ObjectiveSettings& s);
std::unique_ptr<Objective> make_ism_objective(const ObjectiveSettings& s);
std::unique_ptr<Objective> make_ssm_objective(const ObjectiveSettings& s);
std::unique_ptr<Objective> make_dsm_objective(const ObjectiveSettings& s);
std::unique_ptr<Objective> make_nce_objective(const ObjectiveSettings& s);

// Registry: settings.name → objective; clear error for unknown names or bad settings.
std::unique_ptr<Objective> make_objective(const ObjectiveSettings& settings);
std::vector<std::string> objective_names();

// Helpers shared by the objectives.
namespace objective_detail {
// ESM, ISM and SSM fit the clean density; noise-conditioned networks are for DSM.
inline void require_unconditioned(const MlpSpec& spec, const std::string& objective) {
  if (spec.conditioning != Conditioning::none)
    throw SettingError(objective + " trains unconditioned models; a noise-conditioned MLP needs " +
                       setting("objective") + " dsm");
}

// Jet request for plain values (no tangents) of x with optional conditioning.
template <class T>
JetRequest<T> plain_request(const MatrixT<T>& x, const VectorT<T>* cond, const VectorT<T>* scale) {
  JetRequest<T> request;
  request.x = &x;
  request.cond_feature = cond;
  request.output_scale = scale;
  return request;
}

// g = ∇ₓφ for an energy MLP: one value sweep and one reverse sweep with ∂loss/∂φ = 1, no
// θ-gradient. With extend_later the jet keeps what add_directional_theta_gradient (or
// MlpJet::extend) needs to reuse both sweeps.
template <class T>
MatrixT<T> energy_gradient(MlpJet<T>& jet, const T* theta, const JetRequest<T>& plain,
                           bool extend_later = false) {
  JetRequest<T> request = plain;
  request.keep_higher = extend_later;
  jet.forward(theta, request);
  MatrixT<T> g(plain.x->rows(), plain.x->cols());
  jet.input_gradient(theta, g);
  return g;
}

// Adds ∂/∂θ Σ_b u_bᵀ∇ₓφ(x_b), u held fixed, to grad, after energy_gradient(…, extend_later =
// true): the θ-gradient of any loss ℓ(∇ₓφ) with u = ∂ℓ/∂(∇ₓφ) (DSM, ESM on energy models), by
// reverse-mode differentiation of the value and gradient sweeps (MlpJet::
// add_directional_theta_gradient).
template <class T>
void add_directional_theta_gradient(MlpJet<T>& jet, const T* theta, const MatrixT<T>& u, T* grad) {
  jet.add_directional_theta_gradient(theta, u, grad);
}
}  // namespace objective_detail

}  // namespace scorematch
