// A trained MLP as a ScoreModel, in the data's own units. The network sees standardised inputs
// z = (x − shift) ⊘ scale, so with φ̃ or s̃ the network's energy or score in z:
//   energy   φ(x) = φ̃(z) + Σᵢ log scaleᵢ     (the Jacobian of x ↦ z keeps p normalisable alike)
//   score    s(x) = −∇φ̃(z) ⊘ scale  or  s̃(z) ⊘ scale
//   div s(x) = Σᵢ ∂²/∂xᵢ² log p = −Σᵢ ∂²φ̃/∂zᵢ² / scaleᵢ²   or  Σᵢ ∂s̃ᵢ/∂zᵢ / scaleᵢ²
// The divergence is one jet sweep with the diagonal tangents v_k = e_k / scale_k (exact).
// A noise-conditioned network is evaluated at one fixed noise level (noise_level()).
#pragma once
#include "scorematch/models/mlp.hpp"
#include "scorematch/models/score_model.hpp"

namespace scorematch {

class MlpModel : public ScoreModel {
 public:
  MlpModel(MlpSpec spec, Vector theta, Vector shift, Vector scale, double noise_level = 0.0);
  // Arrays W0, b0, W1, b1, …, shift, scale (as written by arrays()).
  static MlpModel from_arrays(const MlpSpec& spec, const NamedArrays& arrays, double noise_level);

  std::string kind() const override { return spec_.kind(); }
  Index dim() const override { return spec_.dim; }
  bool has_energy() const override { return spec_.output == MlpOutput::energy; }
  Vector energy(const Matrix& x) const override;
  Matrix score(const Matrix& x) const override;
  Vector score_divergence(const Matrix& x) const override;
  NamedArrays arrays() const override;

  const MlpSpec& spec() const { return spec_; }
  const Vector& theta() const { return theta_; }
  const Vector& shift() const { return shift_; }
  const Vector& scale() const { return scale_; }
  double noise_level() const { return noise_level_; }

 private:
  MlpSpec spec_;
  Vector theta_, shift_, scale_;
  double noise_level_;
};

}  // namespace scorematch
