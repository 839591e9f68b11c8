// The posterior p(x | y_o) ∝ p(x) exp(−‖y_o − A x‖² / (2σ_y²)) as a ScoreModel whose density
// depends on the chain: chain c samples observation o = c / K (K chains per observation), so ULA
// and MALA sample many observations' posteriors at once, sharded over ranks like any chains.
//   energy_o(x) = φ(x) + ‖y_o − A x‖² / (2σ_y²),   score_o(x) = s(x) + Aᵀ(y_o − A x) / σ_y².
// The model holds only the observations of its chains: rows [first_obs, first_obs + y.rows()).
#pragma once
#include "scorematch/inverse/linear_operator.hpp"
#include "scorematch/models/score_model.hpp"

namespace scorematch::inverse {

// The observations a rank's chains see: chain c samples observation o = c / K (K chains per
// observation); rows [first_obs, first_obs + y.rows()) are held. Residuals y_o − A x and adjoints
// go through the observation's own operator (a mask may differ per row). Shared by the plain and
// the annealed (noised) posterior.
class ChainObservations {
 public:
  ChainObservations(const LinearOperator& a, Matrix y, Index first_obs, double sigma_y,
                    Index chains_per_obs);
  double sigma_y() const { return sigma_y_; }
  // y_o − A x for rows that are chains first_chain, first_chain + 1, …
  Matrix residual(const Matrix& x, Index first_chain) const;
  // A x for the same rows (each through its observation's operator).
  Matrix apply(const Matrix& x, Index first_chain) const;
  const LinearOperator& op() const { return a_; }
  // Aᵀ r for the same rows.
  Matrix adjoint(const Matrix& r, Index first_chain) const;

 private:
  const LinearOperator& a_;
  Matrix y_;
  Index first_obs_;
  double sigma_y_;
  Index per_obs_;
};

class PosteriorModel final : public ChainTarget {
 public:
  PosteriorModel(const ScoreModel& prior, const LinearOperator& a, Matrix y, Index first_obs,
                 double sigma_y, Index chains_per_obs);
  std::string kind() const override { return "posterior"; }
  Index dim() const override { return prior_.dim(); }
  bool has_energy() const override { return prior_.has_energy(); }
  Matrix score_at(const Matrix& x, Index first_row) const override;
  void energy_and_score_at(const Matrix& x, Index first_row, Vector& e, Matrix& s) const override;

 private:
  const ScoreModel& prior_;
  ChainObservations obs_;
};

}  // namespace scorematch::inverse
