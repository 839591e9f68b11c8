// Latent scores of a decoder model x = f(z) + ε, ε ~ N(0, Σ), Σ = diag(σ_1², …, σ_d²), with the
// prior p(z) = N(0, I/λ) (λ = 1: standard normal, the default) or flat (λ = 0):
//   −log p(z | x) = ½ (x − f(z))ᵀ Σ⁻¹ (x − f(z)) + ½ λ ‖z‖² + const            (the "energy")
//   ∇_z log p(z | x) = J_f(z)ᵀ Σ⁻¹ (x − f(z)) − λ z                            (the latent score)
// with J_f from the decoder's forward jets (K = k tangents). MAP codes by damped Newton steps
// (Levenberg–Marquardt; Nocedal & Wright 2006, §10.3): per row,
//   (H + μ I) Δ = J_fᵀ Σ⁻¹ r − λ z,
//   H = J_fᵀ Σ⁻¹ J_f + λ I                       (Gauss–Newton), or
//   H = J_fᵀ Σ⁻¹ J_f − Σ_i (Σ⁻¹r)_i ∇²f_i + λ I   (exact Hessian, the default: Gauss–Newton alone
//                                                 converges only linearly when the residual
//                                                 curvature matters, 0.98 per step in a test),
// a step accepted when it does not raise the energy (μ ← μ/3), else retried with μ ← 4μ; μ is
// also raised until H + μ I is positive definite. For a linear decoder both are the same, and with
// a flat prior the fixed point is the (weighted) least-squares solution.
#pragma once
#include "scorematch/inverse/decoder.hpp"
#include "scorematch/models/score_model.hpp"

namespace scorematch::inverse {

struct LatentModel {
  const Decoder* decoder = nullptr;
  Vector inv_var;                // Σ⁻¹ diagonal (length d), all > 0
  double prior_precision = 1.0;  // λ: 1 = N(0, I) prior, 0 = flat
};

// Checks the model's pieces agree (dimensions, positivity); throws Error otherwise.
void validate(const LatentModel& m);

// Energies (n) and latent scores (n × k) of codes z (n × k) for data rows x (n × d).
void latent_energy_and_score(const LatentModel& m, const Matrix& z, const Matrix& x, Vector& energy,
                             Matrix& score);
Vector latent_energy(const LatentModel& m, const Matrix& z, const Matrix& x);

struct LatentMapSettings {
  Index max_iterations = 200;
  // Converged when the relative stationarity ‖J_fᵀΣ⁻¹r − λz‖ / (‖Σ^{-½}J_f‖_F ‖Σ^{-½}r‖ + λ‖z‖)
  // falls below `tolerance`, or when no damped step can lower the energy any more (round-off).
  double tolerance = 1e-12;
  bool exact_hessian = true;  // false: Gauss–Newton
};

struct LatentMapResult {
  Matrix z;             // n × k MAP codes
  Vector energy;        // n: −log p(z | x) + const at the MAP
  Vector stationarity;  // n: the relative stationarity measure above
  Vector orthogonality;  // n: |J_fᵀ Σ⁻¹ r| / (‖Σ^{-½} J_f‖_F ‖Σ^{-½} r‖) (0 when r = 0)
  std::vector<Index> iterations;  // per row
  Index converged = 0;            // rows that met the tolerance or stalled at round-off
};

LatentMapResult latent_map(const LatentModel& m, const Matrix& x, Matrix z0,
                           const LatentMapSettings& settings);

// p(z | x_o) for many rows at once as a ScoreModel over z, for ULA/MALA: chain c samples row
// o = c / K (K chains per row); the model holds rows [first_row, first_row + x.rows()).
class LatentPosteriorModel final : public ChainTarget {
 public:
  LatentPosteriorModel(LatentModel m, Matrix x, Index first_row, Index chains_per_row);
  std::string kind() const override { return "latent-posterior"; }
  Index dim() const override { return m_.decoder->latent_dim(); }
  Matrix score_at(const Matrix& z, Index first_chain) const override;
  void energy_and_score_at(const Matrix& z, Index first_chain, Vector& e, Matrix& s) const override;

 private:
  Matrix rows_for(Index first_chain, Index n) const;
  LatentModel m_;
  Matrix x_;
  Index first_row_, per_row_;
};

}  // namespace scorematch::inverse
