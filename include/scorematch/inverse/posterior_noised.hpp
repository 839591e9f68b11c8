// Annealed posterior sampling for y = A x + ε, ε ~ N(0, σ_y² I): the noised-prior score of a
// σ-conditioned model plus the likelihood score with the noise level folded into its variance
// (Jalal et al. 2021, "Robust compressed sensing MRI with deep generative priors"; Kawar et al.
// 2021): at level σ,
//   ∇ log p_σ(x | y) ≈ s(x; σ) + Aᵀ(y − A x) / (σ_y² + σ²),
// which is exact for a Gaussian prior with A = I (a noised x sees y through σ_y² + σ² of
// variance) and tends to the posterior score as σ → 0. Annealed Langevin on it runs from σ_max
// (the prior dominates) down to σ_min. The prior's noise lives in its coordinates z, with data
// x = shift + scale ⊙ z; the likelihood term is mapped by the chain rule, ∇_z = scale ⊙ ∇_x, and
// σ in data units is taken as σ·rms(scale) (exact for uniform scale, e.g. --no-standardize).
// Chain c samples observation o = c / K, as in PosteriorModel.
// When A selects coordinates (identity, mask) it also offers imputation (sampling/noised_score.hpp
// Imputation): samplers that use it (ve-pc) run on the prior's score and replace the observed
// coordinates by the noised observation instead of adding the likelihood term.
//
// pigdm guidance (ΠGDM: Song, Vahdat, Mardani & Kautz 2023, "Pseudoinverse-guided diffusion
// models for inverse problems", ICLR; the Gaussian approximation of p(x₀ | x_σ) also in Boys et
// al. 2023, "Tweedie moment projected diffusions") replaces the widened likelihood by the
// likelihood of Tweedie's denoised estimate D(x) = x + σ² s(x; σ):
//   p(y | x_σ) ≈ N(y; A D(x_σ), σ_y² I + r_σ² A Aᵀ),  r_σ² = σ² σ_d² / (σ² + σ_d²)
// (r_σ² is the posterior variance of x₀ given x_σ for data of variance σ_d² per coordinate), so
//   ∇ log p_σ(x | y) ≈ s(x; σ) + J_Dᵀ (r_σ² AᵀA + σ_y² I)⁻¹ Aᵀ (y − A D(x)),  J_D = I + σ² ∇s
// (push-through identity Aᵀ(r² AAᵀ + σ_y² I)⁻¹ = (r² AᵀA + σ_y² I)⁻¹ Aᵀ). ∇s is the Hessian of
// log p_σ, symmetric for a true score, so J_Dᵀ u is taken as the forward product J_D u
// (NoisedScore::jacobian_product). The likelihood's own dependence on x through r_σ is zero, and
// that of the approximation's covariance on x is ignored, as in ΠGDM. The term is exact for a
// Gaussian prior N(μ, σ_d² I) (then p(x₀ | x_σ) is Gaussian with covariance r_σ² I) and tends to
// the posterior score as σ → 0. DPS (Chung et al. 2023) is the same gradient with r_σ = 0 and a
// step-size heuristic in place of 1/σ_y²; unscaled (r_σ = 0, weight 1/σ_y²) it diverged in the
// optdigits exact-score check (σ_y = 0.02).
// Cost: one score and one Jacobian-vector product (a tangent sweep) per evaluation.
#pragma once
#include <optional>
#include <string>

#include "scorematch/inverse/posterior_model.hpp"
#include "scorematch/sampling/noised_score.hpp"

namespace scorematch::inverse {

// How the observation enters the noised posterior score (sample --guidance):
//   imputation  the observed coordinates are replaced (mask, identity; samplers that impute: ve-pc)
//   widened     s(x; σ) + Aᵀ(y − A x)/(σ_y² + σ²) (Jalal et al. 2021)
//   pigdm       s(x; σ) + J_Dᵀ(r_σ² AᵀA + σ_y² I)⁻¹Aᵀ(y − A D(x)) (ΠGDM, above)
enum class Guidance { imputation, widened, pigdm };
Guidance parse_guidance(const std::string& name);  // throws on an unknown name
std::string guidance_name(Guidance g);

struct GuidanceSettings {
  Guidance kind = Guidance::imputation;
  // pigdm: σ_d, the data's standard deviation per coordinate in the prior's coordinates z (> 0).
  double sigma_data = 0.0;
};

class PosteriorNoisedScore final : public NoisedScore, private Imputation {
 public:
  // guidance: by default imputation when A selects coordinates, else widened. Throws when the
  // guidance does not fit the operator (imputation needs a coordinate-selecting A) or lacks its
  // setting (pigdm needs σ_d > 0).
  PosteriorNoisedScore(const NoisedScore& prior, const LinearOperator& a, Matrix y, Index first_obs,
                       double sigma_y, Index chains_per_obs,
                       std::optional<GuidanceSettings> guidance = std::nullopt);
  Index dim() const override { return prior_.dim(); }
  NoiseScheme scheme() const override { return prior_.scheme(); }
  Matrix score_at(const Matrix& z, double level, Index first_chain) const override;
  // Without a chain index the observation is unknown: these throw.
  Matrix score(const Matrix& z, double level) const override;
  Vector divergence(const Matrix& z, double level) const override;
  Matrix probe_quadratic(const Matrix& z, double level, const Matrix& probes,
                         Index K) const override;
  Vector shift() const override { return prior_.shift(); }
  Vector scale() const override { return prior_.scale(); }
  const Imputation* imputation() const override;

 private:
  double level() const override { return obs_.sigma_y() / rms_scale_; }
  bool observes_all() const override { return obs_.op().is_identity(); }
  const NoisedScore& prior() const override { return prior_; }
  void impute(Matrix& z, double level, Index first_chain, const Matrix& xi) const override;
  Matrix conditional_score(const Matrix& z, double level, Index first_chain) const override;
  // x = shift + scale ⊙ z (data units), and Aᵀ(y − A x) of it for chains first_chain, ….
  Matrix to_data(const Matrix& z) const;
  Matrix adjoint_residual(const Matrix& z, Index first_chain) const;
  // s(z; σ) + w Aᵀ(y − A x) mapped to z, the likelihood's weight w per level.
  Matrix with_likelihood(const Matrix& z, double level, Index first_chain, double w) const;
  Matrix pigdm_score(const Matrix& z, double level, Index first_chain) const;

  const NoisedScore& prior_;
  ChainObservations obs_;
  double rms_scale_;
  GuidanceSettings guidance_;
  // pigdm with an operator that does not select coordinates: AᵀA = V diag(λ) Vᵀ (one operator
  // for every row: blur, dense).
  Vector gram_values_;
  Matrix gram_vectors_;
};

}  // namespace scorematch::inverse
