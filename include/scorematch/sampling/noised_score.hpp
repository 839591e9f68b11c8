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
  virtual Vector shift() const { return Vector::Zero(dim()); }
  virtual Vector scale() const { return Vector::Ones(dim()); }
};

// The noised law of a shared-covariance Gaussian mixture (the gaussian and gmm targets): at
// scaling a and noise s each component is N(a μ_k, a²C + s²I), with C = Q diag(λ) Qᵀ factored once.
std::unique_ptr<NoisedScore> make_noised_mixture(const SharedCovarianceMixture& mixture,
                                                 NoiseScheme scheme, VpSde sde = {});

// A σ- or t-conditioned MLP (scheme from its conditioning), in its standardised coordinates.
std::unique_ptr<NoisedScore> make_noised_mlp(const MlpModel& model);

std::string noise_scheme_name(NoiseScheme scheme);

}  // namespace scorematch
