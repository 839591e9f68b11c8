// A trained MLP as a ScoreModel, in the data's own units. The network sees standardised inputs
// z = (x − shift) ⊘ scale, so with φ̃ or s̃ the network's energy or score in z:
//   energy   φ(x) = φ̃(z) + Σᵢ log scaleᵢ     (the Jacobian of x ↦ z keeps p normalisable alike)
//   score    s(x) = −∇φ̃(z) ⊘ scale  or  s̃(z) ⊘ scale
//   div s(x) = Σᵢ ∂²/∂xᵢ² log p = −Σᵢ ∂²φ̃/∂zᵢ² / scaleᵢ²   or  Σᵢ ∂s̃ᵢ/∂zᵢ / scaleᵢ²
// The divergence is one jet sweep with the diagonal tangents v_k = e_k / scale_k (exact).
// A noise-conditioned network is evaluated at one fixed noise level (noise_level()).
// Divergences always run in float64; energy and score optionally in float32 (use_float32).
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
  void energy_and_score(const Matrix& x, Vector& energy, Matrix& score) const override;

  // The network itself, in standardised coordinates z and at noise level `level` (ignored when
  // unconditioned): its score s̃(z), divergence Σ_k ∂s̃_k/∂z_k, and Hutchinson quadratic forms
  // out(i, k) = v_ikᵀ ∇s̃(z_i) v_ik for probes.row(i·K + k).
  Matrix network_score(const Matrix& z, double level) const;
  Vector network_divergence(const Matrix& z, double level) const;
  Matrix network_probe_quadratic(const Matrix& z, double level, const Matrix& probes,
                                 Index K) const;
  // Jacobian-vector products out.row(i) = ∇s̃(z_i) v_i (n × d), one forward tangent sweep; score
  // networks only (an energy's Hessian-vector product would need a reverse sweep of the tangent).
  Matrix network_jacobian_product(const Matrix& z, double level, const Matrix& v) const;
  Matrix standardise(const Matrix& x) const;

  // Evaluate energy and score (not the divergences) in float32: the jets run on a float copy of
  // θ and the results are widened to double. For samplers, where ~1e-7 relative error in the score
  // is far below the discretisation error and float GEMMs run about twice as fast.
  void use_float32(bool on);
  bool float32() const { return theta_f_.size() > 0; }
  const Eigen::VectorXf& theta_float32() const { return theta_f_; }

  const MlpSpec& spec() const { return spec_; }
  const Vector& theta() const { return theta_; }
  const Vector& shift() const { return shift_; }
  const Vector& scale() const { return scale_; }
  Vector standardisation_scale() const override { return scale_; }
  std::optional<Standardisation> standardisation() const override {
    return Standardisation{shift_, scale_};
  }
  double noise_level() const { return noise_level_; }
  // Evaluate a noise-conditioned network at another level σ (or t) > 0 from now on, e.g. a
  // smoother prior for MAP estimation (map --prior-level).
  void set_noise_level(double level);

 private:
  MlpSpec spec_;
  Vector theta_, shift_, scale_;
  double noise_level_;
  Eigen::VectorXf theta_f_;  // non-empty in float32 mode

  // Σ_k ∂²/∂y_k² log p for y_k = z_k / w_k: the divergence in z (w = 1) or in x (w = scale).
  Vector weighted_divergence(const Matrix& z, double level, const Vector& inv_w) const;
};

}  // namespace scorematch
