// MAP for an energy prior by L-BFGS with a backtracking (Armijo) line search on the posterior
// energy, one independent optimisation per observation row, all rows evaluated in one batch:
//   f(x) = φ(x) + ‖y − A x‖² / (2σ_y²),   ∇f(x) = −s(x) − Aᵀ(y − A x) / σ_y².
// Two-loop recursion with the last `memory` pairs (s_k, y_k) and the initial scaling
// γ = s_kᵀy_k / y_kᵀy_k (Nocedal & Wright 2006, Alg. 7.4); pairs with s_kᵀy_k ≤ 0 are skipped, so
// the direction stays one of descent; a non-descent direction falls back to −∇f.
#pragma once
#include "scorematch/inverse/linear_operator.hpp"
#include "scorematch/models/score_model.hpp"

namespace scorematch::inverse {

struct LbfgsSettings {
  Index max_iterations = 500;
  Index memory = 10;
  // Stop a row when ‖∇f‖∞ ≤ tolerance · (1 + |f|).
  double tolerance = 1e-10;
  double armijo = 1e-4;
};

struct LbfgsResult {
  Matrix x;
  std::vector<Index> iterations;  // per row
  Index converged = 0;            // rows that met the tolerance or reached the round-off floor
};

LbfgsResult map_lbfgs(const ScoreModel& prior, const LinearOperator& a, const Matrix& y,
                      double sigma_y, Matrix x0, Index first_row, const LbfgsSettings& settings);

}  // namespace scorematch::inverse
