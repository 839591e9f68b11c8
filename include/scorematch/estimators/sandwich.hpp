// Sandwich (Godambe) standard errors for closed-form score matching, as reported by
// scorematchingad (Hyvärinen 2005; Forbes & Krishnamurthy). θ̂ minimises the mean of the
// per-sample objective J_i(θ) = ½ θᵀA_iθ + θᵀb_i + ½λ θᵀRθ, with A_i = D_iᵀD_i (D_i = ∂T/∂z at row
// i, d × p) and b_i = Σ_j ∂_j²T. Its per-sample gradient is g_i = A_iθ + b_i + λRθ and, with H =
// mean(A_i) + λR,
//   Var(θ̂) ≈ H⁻¹ Cov(g_i) H⁻¹ / n.
// One pass accumulates n, Σ A_i, Σ g_i and Σ g_i g_iᵀ (a GEMM per chunk): O(n p² d) work, so the
// CLI only runs it by default when that is cheap (see cli/cmd_fit.cpp).
#pragma once
#include <vector>

#include "scorematch/core/long_accumulator.hpp"
#include "scorematch/core/types.hpp"
#include "scorematch/models/monomial_basis.hpp"

namespace scorematch {

struct SandwichStats {
  double count = 0.0;
  Matrix hessian_sum;   // Σ A_i
  Vector gradient_sum;  // Σ g_i
  Matrix outer_sum;     // Σ g_i g_iᵀ

  static SandwichStats zeros(Index p);
  void add(const SandwichStats& other);
  std::vector<double> pack() const;
  static SandwichStats unpack(const std::vector<double>& buffer, Index p);
};

// z = (x − shift) / scale per row; ridge_penalty = λR (diagonal, as a vector).
SandwichStats accumulate_sandwich(const Matrix& x, const Vector& shift, const Vector& scale,
                                  const MonomialBasis& basis, const Vector& theta,
                                  const Vector& ridge_penalty);
// The same as an exact sum of 512-row chunk partials (pack() layout), reducible over ranks.
ExactVectorSum sandwich_partials(const Matrix& x, const Vector& shift, const Vector& scale,
                                 const MonomialBasis& basis, const Vector& theta,
                                 const Vector& ridge_penalty);

// H⁻¹ Cov(g) H⁻¹ / n (p × p).
Matrix sandwich_covariance(const SandwichStats& stats, const Vector& ridge_penalty);

}  // namespace scorematch
