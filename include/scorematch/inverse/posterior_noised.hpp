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
#pragma once
#include "scorematch/inverse/posterior_model.hpp"
#include "scorematch/sampling/noised_score.hpp"

namespace scorematch::inverse {

class PosteriorNoisedScore final : public NoisedScore, private Imputation {
 public:
  PosteriorNoisedScore(const NoisedScore& prior, const LinearOperator& a, Matrix y, Index first_obs,
                       double sigma_y, Index chains_per_obs);
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
  // s(z; σ) + w Aᵀ(y − A x) mapped to z, the likelihood's weight w per level.
  Matrix with_likelihood(const Matrix& z, double level, Index first_chain, double w) const;

  const NoisedScore& prior_;
  ChainObservations obs_;
  double rms_scale_;
};

}  // namespace scorematch::inverse
