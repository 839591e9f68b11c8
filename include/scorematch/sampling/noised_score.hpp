// Scores of noised laws, the input of annealed Langevin, the reverse VP-SDE, the probability-flow
// ODE and predictor–corrector samplers. Two schemes:
//   sigma   p_σ = p ∗ N(0, σ²I)                                   (NCSN, Song & Ermon 2019)
//   vpsde   p_t = law of α(t) x₀ + σ(t) ε, x₀ ~ p, ε ~ N(0, I)    (Song et al. 2021)
// A NoisedScore works in its own coordinates z; data are x = shift + scale ⊙ z (for networks
// trained on standardised data the noise lives in standardised units; analytic targets use the
// identity map). Every method takes a batch of rows and one noise level (σ, or t).
#pragma once
#include <memory>
#include <string>

#include "scorematch/core/types.hpp"
#include "scorematch/models/mlp.hpp"
#include "scorematch/models/mlp_model.hpp"
#include "scorematch/models/targets.hpp"

namespace scorematch {

enum class NoiseScheme { sigma, vpsde };

class NoisedScore;

// Data consistency of a posterior p(x | y) for y = A x + η, η ~ N(0, σ_y² I), when A selects
// coordinates (identity, pixel mask): score_sde's imputation (Song et al. 2021, App. I.2), made
// exact at the observation's own noise level. Couple the observation with the VE process,
// y = A x_σy; then for σ ≥ σ_y the observed coordinates of x_σ are y + √(σ² − σ_y²) ξ, and
// below σ_y the reverse process needs no observation term: x_0 | x_σy = y is the reverse process
// from σ_y (for A = I this samples p(x | y) exactly, and its mean is Tweedie's y + σ_y² s(y; σ_y)).
// A Langevin corrector below σ_y must target p(x_σ | y) ∝ p_σ(x_σ) N(y; A x_σ, (σ_y² − σ²) I)
// (y = A x_σ + √(σ_y² − σ²) ξ with ξ independent of x_σ), whose score is conditional_score().
class Imputation {
 public:
  virtual ~Imputation() = default;
  // σ_y in the score's coordinates (σ of the VE process at which x_σ's observed part is y).
  virtual double level() const = 0;
  // True when every coordinate is observed (A = I).
  virtual bool observes_all() const = 0;
  // The prior's noised score (no likelihood term): imputation replaces it.
  virtual const NoisedScore& prior() const = 0;
  // For chains first_chain, …: observed coordinates of z ← y + √(σ² − σ_y²) ξ (in data units),
  // for a level σ ≥ level(); xi is n × d standard normals.
  virtual void impute(Matrix& z, double level, Index first_chain, const Matrix& xi) const = 0;
  // ∇_z log p(z_σ | y) for σ < level(): s(z; σ) + Aᵀ(y − A x)/(σ_y² − σ²) (chain rule to z).
  virtual Matrix conditional_score(const Matrix& z, double level, Index first_chain) const = 0;
};

class NoisedScore {
 public:
  virtual ~NoisedScore() = default;
  virtual Index dim() const = 0;
  virtual NoiseScheme scheme() const = 0;
  // The VP-SDE's β(t) (scheme vpsde only).
  virtual VpSde sde() const { return {}; }
  // ∇_z log p_level(z), n × d.
  virtual Matrix score(const Matrix& z, double level) const = 0;
  // Per-chain laws (a posterior p(· | y_o) per observation): rows are chains first_row, ….
  // Samplers call this; a single law ignores the index.
  virtual Matrix score_at(const Matrix& z, double level, Index /*first_row*/) const {
    return score(z, level);
  }
  // ∇_z · s(z; level), exact.
  virtual Vector divergence(const Matrix& z, double level) const = 0;
  // Hutchinson probes: out(i, k) = v_ikᵀ (∇s(z_i)) v_ik with v_ik = probes.row(i·K + k); n × K.
  virtual Matrix probe_quadratic(const Matrix& z, double level, const Matrix& probes,
                                 Index K) const = 0;
  // Jacobian-vector products out.row(i) = ∇_z s(z_i; level) v_i, n × d. For a true score ∇s is
  // the Hessian of log p_level, symmetric, so this is also v_iᵀ∇s (pigdm guidance uses it so).
  // Throws where it is not available.
  virtual Matrix jacobian_product(const Matrix& z, double level, const Matrix& v) const;
  virtual Vector shift() const { return Vector::Zero(dim()); }
  virtual Vector scale() const { return Vector::Ones(dim()); }
  // A posterior whose observation can be imputed (see Imputation), else null.
  virtual const Imputation* imputation() const { return nullptr; }
};

// The noised law of a shared-covariance Gaussian mixture (the gaussian and gmm targets, a fitted
// Gaussian): at scaling a and noise s each component is N(a μ_k, a²C + s²I), with C = Q diag(λ) Qᵀ
// factored once, in coordinates z = x − shift (shift empty: 0). A mixture centred by its shift
// starts the noised samplers' prior N(0, σ_max² I) (or N(0, I) at t = 1) at its centre.
std::unique_ptr<NoisedScore> make_noised_mixture(const SharedCovarianceMixture& mixture,
                                                 NoiseScheme scheme, VpSde sde = {},
                                                 Vector shift = {});

// A σ- or t-conditioned MLP (scheme from its conditioning), in its standardised coordinates.
std::unique_ptr<NoisedScore> make_noised_mlp(const MlpModel& model);

std::string noise_scheme_name(NoiseScheme scheme);

}  // namespace scorematch
