// Denoising score matching (Vincent 2011) with λ(σ) = σ² weighting (Song & Ermon 2019):
//   ℓ = ½σ²‖sθ(x̃, σ) + ε/σ‖² = ½‖σ sθ(x̃, σ) + ε‖²,   x̃ = x + σε,  ε ~ N(0, I),
// since ∇_x̃ log N(x̃; x, σ²I) = −ε/σ. Noise levels:
//   single  one fixed σ (the model may be unconditioned);
//   ladder  σ_i = σ_max (σ_min/σ_max)^{i/(L−1)}, i uniform on {0..L−1} (σ-conditioned model);
//   vesde   σ = σ_min (σ_max/σ_min)^u, u ~ U[0, 1): log σ uniform (σ-conditioned model; the VE
//           SDE of Song et al. 2021 with t ~ U[0, 1]); or, sigma_density "lognormal", log σ ~
//           N(P_mean, P_std²) (Karras et al. 2022; objectives/sigma_density.hpp);
//   vpsde   t ~ U[t_eps, 1], x̃ = α(t)x + σ(t)ε (time-conditioned model, Song et al. 2021).
// Score model: ∂ℓ/∂s = σ(σs + ε). With edm preconditioning (models/mlp.hpp) the row's loss is
// multiplied by w(σ) = 1 + σ²/σ_d² and s = o F(c_in x̃) − k x̃ (Karras et al. 2022). Energy model (s
// = −∇φ, g = ∇φ): ℓ = ½‖ε − σg‖², whose θ-gradient is that of uᵀ∇φ with u = σ(σg − ε) held fixed
// (reverse mode through the value and gradient sweeps: MlpJet::add_directional_theta_gradient). ε,
// then σ or t, of row b come from RandomStream(seed, stream[b], step). Score models may drop
// hidden units in training steps (`dropout` p > 0, objectives/dropout.hpp): the loss and its
// gradient are those of the masked network m ⊙ σ(a), the masks from their own key.
//
// Consistency (`consistency` λ > 0; vesde, score models; training steps only). The denoisers
// D(x, σ) = x + σ² s(x, σ) of a true score are a martingale along the reverse process: for σ' < σ,
// E[D(x_σ', σ') | x_σ] = D(x_σ, σ) (Daras, Dagan, Dimakis & Daskalakis 2023, "Consistent
// diffusion models"), which is what makes a sampler started at x_σ end, on average, at Tweedie's
// mean of the score at σ. A network trained by DSM alone learns each level separately and need
// not be one family. Each training row adds λ·½ w ‖σ s(x̃, σ) + (x̃ − t)/σ‖² = λ·½ (w/σ²) ‖D(x̃, σ)
// − t‖², the regression of D at (x̃, σ) on the target t = D̄(x', σ') of one ancestral step of the
// model's own reverse process (Song et al. 2021, eq. 47):
//   σ' = σ 2^{−u},  x' = x̃ + (σ² − σ'²) s̄(x̃, σ) + σ' √(1 − σ'²/σ²) ξ,  u ~ U(0, 1), ξ ~ N(0, I),
// where the bar marks the teacher network: without dropout, held fixed (no gradient flows through
// the target), with the EMA of the weights in training (ObjectiveBatch::teacher; Song et al.
// 2023's consistency training; with the raw weights, λ ≥ 16 diverged on optdigits), or a network
// held fixed for the whole run (fit --consistency-teacher init: the starting model, whose reverse
// process is then distilled into the one-step denoiser, as progressive distillation, Salimans &
// Ho 2022, distils a sampler's steps; the term's minimiser no longer moves with the student). The
// least-squares minimiser of the term is D(x̃, σ) = E[t | x̃], the martingale property for one step
// (exact for small steps; the ancestral step's Gaussian is the first-order law of x' given x̃).
// `consistency_steps` K > 1 reaches σ' by K ancestral steps on the geometric grid σ_k = σ
// (σ'/σ)^{k/K}, k = 1 … K, each x_k = x_{k−1} + (σ_{k−1}² − σ_k²) s̄(x_{k−1}, σ_{k−1}) + σ_k
// √(1 − σ_k²/σ_{k−1}²) ξ_k: a target closer to the law of the model's reverse process (the one
// the samplers run on fine grids) for K + 1 teacher evaluations instead of 2. u and ξ_1 … ξ_K of
// row b come from their own key, RandomStream(derive_seed(seed, kConsistencyTag), stream[b],
// step): uniform(), then K·d normal() calls. The validation loss stays plain DSM.
#include <cmath>

#include "scorematch/core/error.hpp"
#include "scorematch/core/random_fill.hpp"
#include "scorematch/core/random_stream.hpp"
#include "scorematch/core/vector_math.hpp"
#include "scorematch/objectives/dropout.hpp"
#include "scorematch/objectives/objective.hpp"
#include "scorematch/objectives/sigma_density.hpp"

namespace scorematch {

namespace {
constexpr std::uint64_t kConsistencyTag = 72;  // after dropout's 71 (objectives/dropout.hpp)

class Dsm : public ObjectiveImpl<Dsm> {
 public:
  explicit Dsm(const ObjectiveSettings& s)
      : p_(s.noise_process()),
        dropout_(s.dropout),
        consistency_(s.consistency),
        consistency_steps_(s.consistency_steps),
        density_(SigmaDensity::parse(s.sigma_density, s.p_mean, s.p_std)) {
    // The CLI's range too (a NaN passes CLI11's range check and stops here, with its words).
    if (!(dropout_ >= 0 && dropout_ <= kMaxDropout))
      throw SettingError(setting("dropout") + " must lie in [0, 0.95] (dsm dropout rate)");
    // The invariants are NoiseProcess::valid's (also a model's meta.json's); the words here name
    // this objective's settings. β of the VP SDE is the network's (MlpSpec::validate).
    if (p_.kind == NoiseKind::ve_ladder)
      check_loop_count("levels", p_.levels);  // the model's default for the annealed sampler
    if (!p_.valid()) {
      if (p_.kind == NoiseKind::fixed)
        throw SettingError("dsm needs a finite " + setting("sigma") + " > 0");
      if (p_.kind == NoiseKind::ve_ladder)
        throw SettingError("dsm ladder needs 0 < " + setting("sigma_min") + " < " +
                           setting("sigma_max") + " < inf and at least 2 " + setting("levels"));
      if (p_.kind == NoiseKind::ve_sde)
        throw SettingError("dsm vesde needs 0 < " + setting("sigma_min") + " < " +
                           setting("sigma_max") + " < inf");
      throw SettingError("dsm vpsde needs 0 < " + setting("t_eps") + " < 1");
    }
    if (!(consistency_ >= 0 && std::isfinite(consistency_)))
      throw SettingError(setting("consistency") + " must be a finite number >= 0, got " +
                         number_text(consistency_));
    if (consistency_steps_ < 1 || consistency_steps_ > kMaxConsistencySteps)
      throw SettingError(setting("consistency_steps") + " must be an integer in [1, " +
                         std::to_string(kMaxConsistencySteps) + "], got " +
                         std::to_string(consistency_steps_));
    // Under vesde only: with another noise the CLI names the setting as unread by that noise.
    if (consistency_steps_ != 1 && consistency_ == 0 && p_.kind == NoiseKind::ve_sde)
      throw SettingError(setting("consistency_steps") + " needs " + setting("consistency") +
                         " > 0 (it sets the consistency term's target)");
    if (consistency_ > 0 && p_.kind != NoiseKind::ve_sde)
      throw SettingError("dsm " + setting("consistency") + " needs noise vesde (it has '" +
                         p_.name() + "')");
    if (density_.kind != SigmaDensity::Kind::log_uniform && p_.kind != NoiseKind::ve_sde)
      throw SettingError("dsm " + setting("sigma_density") + " " + density_.name() +
                         " needs noise vesde (it has '" + p_.name() + "')");
  }
  std::string name() const override { return "dsm"; }
  bool uses(const std::string& setting) const override {
    if (p_.kind == NoiseKind::ve_sde && setting == "sigma_density") return true;
    if (density_.kind == SigmaDensity::Kind::lognormal &&
        (setting == "p_mean" || setting == "p_std"))
      return true;
    if (p_.kind == NoiseKind::ve_sde &&
        (setting == "consistency" || setting == "consistency_steps" ||
         setting == "consistency_teacher"))
      return true;
    return setting == "noise" || setting == "dropout" || p_.uses(setting);
  }
  std::string description() const override {
    return "dsm with noise '" + p_.name() + "'" +
           (density_.kind == SigmaDensity::Kind::log_uniform ? ""
                                                             : " (" + density_.name() + " sigma)") +
           (consistency_ > 0 ? " and consistency " + number_text(consistency_) : "") +
           (consistency_ > 0 && consistency_steps_ > 1
                ? " over " + std::to_string(consistency_steps_) + " steps"
                : "");
  }
  std::optional<NoiseProcess> noise() const override { return p_; }
  bool needs_teacher() const override { return consistency_ > 0; }
  Index tangents(const MlpSpec&) const override { return 0; }
  void check(const MlpSpec& spec) const override {
    const Conditioning needed = p_.conditioning();
    if (needed != Conditioning::none && spec.conditioning != needed)
      throw SettingError("dsm with noise '" + p_.name() + "' needs a model with " +
                         setting("conditioning") + " " + conditioning_name(needed) + " (it has " +
                         conditioning_name(spec.conditioning) + ")");
    if (p_.kind == NoiseKind::fixed && spec.conditioning == Conditioning::time)
      throw SettingError("dsm with a single sigma cannot train a time-conditioned model");
    if (dropout_ > 0 && spec.output != MlpOutput::score)
      throw SettingError("dsm " + setting("dropout") + " needs a score model (mlp-score)");
    if (consistency_ > 0 && spec.output != MlpOutput::score)
      throw SettingError("dsm " + setting("consistency") + " needs a score model (mlp-score)");
  }

  template <class T>
  double run(const ObjectiveBatch<T>& batch) const {
    const MlpSpec& spec = *batch.spec;
    MlpJet<T>& jet = *batch.jet;
    const Index B = batch.x->rows(), d = spec.dim;
    MatrixT<T> noisy(B, d), eps(B, d), xi;
    std::vector<double> upper, lower;  // consistency: σ and σ' per row
    VectorT<T> sigma(B), feature(B), scale(B);
    // edm preconditioning (mlp.hpp): per-row input scale, skip coefficient and loss weight.
    const bool edm = spec.precondition == Precondition::edm;
    VectorT<T> in_scale(edm ? B : 0), skip(edm ? B : 0), weight(edm ? B : 0);
    const auto set_row = [&](Index b, const ConditioningValues& c) {
      feature[b] = static_cast<T>(c.feature);
      scale[b] = static_cast<T>(c.output_scale);
      if (!edm) return;
      in_scale[b] = static_cast<T>(c.input_scale);
      skip[b] = static_cast<T>(c.skip);
      weight[b] = static_cast<T>(c.loss_weight);
    };
    // ε first (blocks 0 … ⌈d/2⌉ − 1 of the row's stream, in bulk), then the level's uniform.
    fill_normal_rows(batch.seed, batch.streams, 0, batch.step, B, d, eps.data(), d);
    if (p_.kind == NoiseKind::fixed) {  // one level for every row: no per-row draw
      const ConditioningValues c = conditioning_values(spec, p_.sigma);
      for (Index b = 0; b < B; ++b) set_row(b, c);
      sigma.setConstant(static_cast<T>(p_.sigma));
      noisy = *batch.x + static_cast<T>(p_.sigma) * eps;
    } else {
      const bool consistent = batch.train && consistency_ > 0;
      if (consistent) {
        upper.resize(static_cast<std::size_t>(B));
        lower.resize(static_cast<std::size_t>(B));
        xi.resize(B, consistency_steps_ * d);  // ξ_k: columns [(k − 1)d, kd)
      }
      for (Index b = 0; b < B; ++b) {
        RandomStream rng(batch.seed, batch.streams[b], batch.step);
        rng.seek(static_cast<std::uint32_t>((d + 1) / 2));  // after ε's blocks
        const Level level = draw_level(spec, rng);
        set_row(b, conditioning_values(spec, level.value));
        sigma[b] = static_cast<T>(level.sd);
        noisy.row(b) = static_cast<T>(level.alpha) * batch.x->row(b) + sigma[b] * eps.row(b);
        if (!consistent) continue;
        RandomStream own(derive_seed(batch.seed, kConsistencyTag), batch.streams[b], batch.step);
        upper[static_cast<std::size_t>(b)] = level.sd;
        lower[static_cast<std::size_t>(b)] = level.sd * std::exp2(-own.uniform());  // σ 2^{−u}
        for (Index j = 0; j < xi.cols(); ++j) xi(b, j) = static_cast<T>(own.normal());
      }
    }
    const bool conditioned = spec.conditioning != Conditioning::none;
    std::vector<MatrixT<T>> masks;
    if (batch.train && dropout_ > 0)
      masks = dropout_masks<T>(spec, dropout_, batch.seed, batch.streams, B, batch.step);
    const std::vector<MatrixT<T>>* dropout = masks.empty() ? nullptr : &masks;
    // Consistency: the target's residual term (x̃ − t)/σ, added to ε's in the loss and gradient.
    MatrixT<T> eps_c;
    if (!lower.empty()) eps_c = consistency_residual(batch, noisy, upper, lower, xi);
    if (edm)
      return run_preconditioned(batch, noisy, eps, sigma, feature, scale, in_scale, skip, weight,
                                dropout, eps_c);
    JetRequest<T> plain = objective_detail::plain_request<T>(
        noisy, conditioned ? &feature : nullptr, conditioned ? &scale : nullptr);
    plain.dropout = dropout;
    if (spec.output == MlpOutput::score) {
      jet.forward(batch.theta, plain);
      // r = σs + ε; ℓ = ½‖r‖², ∂ℓ/∂s = σ r.
      const MatrixT<T> r = sigma.asDiagonal() * jet.output() + eps;
      if (eps_c.size() == 0) {
        if (batch.grad) jet.reverse(batch.theta, sigma.asDiagonal() * r, batch.grad);
        return 0.5 * vector_math::squared_norm(r.data(), r.size());
      }
      // + λ·½‖r_c‖², r_c = σs + (x̃ − t)/σ: ∂/∂s = σ(r + λ r_c).
      const MatrixT<T> rc = sigma.asDiagonal() * jet.output() + eps_c;
      const T lambda = static_cast<T>(consistency_);
      if (batch.grad) jet.reverse(batch.theta, sigma.asDiagonal() * (r + lambda * rc), batch.grad);
      return 0.5 * vector_math::squared_norm(r.data(), r.size()) +
             0.5 * consistency_ * vector_math::squared_norm(rc.data(), rc.size());
    }
    const MatrixT<T> g =
        objective_detail::energy_gradient(jet, batch.theta, plain, batch.grad != nullptr);
    const MatrixT<T> r = sigma.asDiagonal() * g - eps;  // ℓ = ½‖r‖²
    if (batch.grad) {
      const MatrixT<T> u = sigma.asDiagonal() * r;
      objective_detail::add_directional_theta_gradient(jet, batch.theta, u, batch.grad);
    }
    return 0.5 * vector_math::squared_norm(r.data(), r.size());
  }

 private:
  // edm (mlp.hpp): s = o F(c_in z̃) − k z̃ with the network's output o F, r = σ s + ε and
  // ℓ = ½ w ‖r‖², so ∂ℓ/∂(o F) = w σ r (the skip term has no parameters).
  template <class T>
  double run_preconditioned(const ObjectiveBatch<T>& batch, const MatrixT<T>& noisy,
                            const MatrixT<T>& eps, const VectorT<T>& sigma,
                            const VectorT<T>& feature, const VectorT<T>& scale,
                            const VectorT<T>& in_scale, const VectorT<T>& skip,
                            const VectorT<T>& weight, const std::vector<MatrixT<T>>* dropout,
                            const MatrixT<T>& eps_c) const {
    MlpJet<T>& jet = *batch.jet;
    const MatrixT<T> input = in_scale.asDiagonal() * noisy;
    JetRequest<T> request = objective_detail::plain_request<T>(input, &feature, &scale);
    request.dropout = dropout;
    jet.forward(batch.theta, request);
    const MatrixT<T> sigma_s = sigma.asDiagonal() * (jet.output() - skip.asDiagonal() * noisy);
    const MatrixT<T> r = sigma_s + eps;
    double loss = 0;
    for (Index b = 0; b < r.rows(); ++b)
      loss += 0.5 * static_cast<double>(weight[b]) * static_cast<double>(r.row(b).squaredNorm());
    if (eps_c.size() == 0) {
      if (batch.grad)
        jet.reverse(batch.theta, (weight.cwiseProduct(sigma)).asDiagonal() * r, batch.grad);
      return loss;
    }
    const MatrixT<T> rc = sigma_s + eps_c;  // + λ·½ w ‖r_c‖²
    for (Index b = 0; b < rc.rows(); ++b)
      loss += 0.5 * consistency_ * static_cast<double>(weight[b]) *
              static_cast<double>(rc.row(b).squaredNorm());
    if (batch.grad)
      jet.reverse(
          batch.theta,
          (weight.cwiseProduct(sigma)).asDiagonal() * (r + static_cast<T>(consistency_) * rc),
          batch.grad);
    return loss;
  }

  // s̄(x, σ_b) per row: the teacher's score without dropout (the consistency target).
  template <class T>
  MatrixT<T> teacher_score(const ObjectiveBatch<T>& batch, const MatrixT<T>& x,
                           const std::vector<double>& levels) const {
    const MlpSpec& spec = *batch.spec;
    const Index B = x.rows();
    const bool edm = spec.precondition == Precondition::edm;
    VectorT<T> feature(B), scale(B), in_scale(B), skip(B);
    for (Index b = 0; b < B; ++b) {
      const ConditioningValues c = conditioning_values(spec, levels[static_cast<std::size_t>(b)]);
      feature[b] = static_cast<T>(c.feature);
      scale[b] = static_cast<T>(c.output_scale);
      in_scale[b] = static_cast<T>(edm ? c.input_scale : 1.0);
      skip[b] = static_cast<T>(edm ? c.skip : 0.0);
    }
    const MatrixT<T> input = in_scale.asDiagonal() * x;
    const T* weights = batch.teacher != nullptr ? batch.teacher : batch.theta;
    batch.jet->forward(weights, objective_detail::plain_request<T>(input, &feature, &scale));
    return batch.jet->output() - skip.asDiagonal() * x;
  }

  // (x̃ − t)/σ per row, t = D̄(x', σ') after K ancestral steps from (x̃, σ) (header comment).
  template <class T>
  MatrixT<T> consistency_residual(const ObjectiveBatch<T>& batch, const MatrixT<T>& noisy,
                                  const std::vector<double>& upper,
                                  const std::vector<double>& lower, const MatrixT<T>& xi) const {
    const Index B = noisy.rows(), d = noisy.cols(), K = consistency_steps_;
    std::vector<double> from = upper, to(upper.size());
    VectorT<T> drift(B), spread(B), lower2(B), inverse(B);
    MatrixT<T> moved = noisy;
    for (Index k = 1; k <= K; ++k) {
      for (Index b = 0; b < B; ++b) {
        const auto i = static_cast<std::size_t>(b);
        // σ_k = σ (σ'/σ)^{k/K}; the last is σ' itself, not a rounding of it.
        to[i] = k == K ? lower[i]
                       : upper[i] * std::pow(lower[i] / upper[i],
                                             static_cast<double>(k) / static_cast<double>(K));
        const double s = from[i], l = to[i];
        drift[b] = static_cast<T>(s * s - l * l);
        spread[b] = static_cast<T>(l * std::sqrt(1.0 - (l * l) / (s * s)));
      }
      const MatrixT<T> step = drift.asDiagonal() * teacher_score(batch, moved, from);
      moved = moved + step + spread.asDiagonal() * xi.middleCols((k - 1) * d, d);
      from = to;
    }
    for (Index b = 0; b < B; ++b) {
      const auto i = static_cast<std::size_t>(b);
      lower2[b] = static_cast<T>(lower[i] * lower[i]);
      inverse[b] = static_cast<T>(1.0 / upper[i]);
    }
    const MatrixT<T> target = moved + lower2.asDiagonal() * teacher_score(batch, moved, lower);
    return inverse.asDiagonal() * (noisy - target);
  }

  // A row's noise level (σ_i or t), its signal factor α and noise sd, drawn from the row's stream
  // positioned after the ε blocks of RandomStream(seed, stream, step). Ladder, VE SDE and VP SDE.
  struct Level {
    double value, alpha, sd;
  };
  Level draw_level(const MlpSpec& spec, RandomStream& rng) const {
    if (p_.kind == NoiseKind::ve_ladder) {
      const auto i = std::min<Index>(
          p_.levels - 1, static_cast<Index>(rng.uniform() * static_cast<double>(p_.levels)));
      const double sd = p_.ladder_sigma(i);
      return {sd, 1.0, sd};
    }
    if (p_.kind == NoiseKind::ve_sde) {
      const double sd = density_.draw(p_, rng);
      return {sd, 1.0, sd};
    }
    const double t = p_.t_eps + (1.0 - p_.t_eps) * rng.uniform();
    return {t, spec.sde.alpha(t), spec.sde.sigma(t)};
  }

  NoiseProcess p_;
  double dropout_, consistency_;
  Index consistency_steps_;
  SigmaDensity density_;
};
}  // namespace

std::unique_ptr<Objective> make_dsm_objective(const ObjectiveSettings& s) {
  return std::make_unique<Dsm>(s);
}

}  // namespace scorematch
