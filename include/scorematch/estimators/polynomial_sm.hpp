// Closed-form score matching for the polynomial exponential family p(z) ∝ exp(θᵀT(z)), T = the
// monomials z^α of MonomialBasis (Hyvärinen 2007; Yu, Drton & Shojaie 2019). ISM is quadratic:
//   J(θ) = E[ ½ Σ_i (∂_i θᵀT)² + Σ_i ∂_i² θᵀT ] = ½ θᵀAθ + θᵀb,
//   A_αβ = Σ_i α_i β_i E[z^{α+β−2e_i}],   b_α = Σ_i α_i(α_i−1) E[z^{α−2e_i}],
// so θ̂ = −(A + λI)⁻¹ b. Both A and b are linear in the moments E[z^γ], |γ| ≤ 2K−2: these moments
// are the sufficient statistics, accumulated in one pass (each moment column is its parent column
// times one coordinate, so a chunk costs one multiply-add per row and moment).
#pragma once
#include <map>
#include <vector>

#include "scorematch/core/long_accumulator.hpp"
#include "scorematch/core/types.hpp"
#include "scorematch/models/monomial_basis.hpp"

namespace scorematch {

// All multi-indices γ with |γ| ≤ max_degree (γ = 0 first), each with its parent γ − e_var.
class MomentTable {
 public:
  MomentTable(Index dim, int max_degree);
  Index size() const { return static_cast<Index>(exponents_.size()); }
  Index index_of(const Exponent& gamma) const;  // throws if |γ| > max_degree
  Index parent(Index g) const { return parent_[static_cast<std::size_t>(g)]; }
  Index var(Index g) const { return var_[static_cast<std::size_t>(g)]; }
  Index dim() const { return dim_; }

 private:
  Index dim_;
  std::vector<Exponent> exponents_;
  std::vector<Index> parent_, var_;
  std::map<Exponent, Index> index_;
};

struct MomentStats {
  double count = 0.0;
  Vector sums;  // Σ_rows z^γ for each γ of the table

  std::vector<double> pack() const;
  static MomentStats unpack(const std::vector<double>& buffer);
};

// z = (x − shift) / scale for each row of x; threaded, deterministic.
MomentStats accumulate_moments(const Matrix& x, const Vector& shift, const Vector& scale,
                               const MomentTable& table);
// The same as an exact sum of chunk partials (pack() layout; chunks divide kFitBlock rows).
ExactVectorSum moment_partials(const Matrix& x, const Vector& shift, const Vector& scale,
                               const MomentTable& table);
// Closed-form fits shard rows over ranks in whole blocks of kFitBlock global rows; every
// statistic's chunk size divides it, so the chunk partials (and their exact sums) are the same
// for any number of ranks and threads.
inline constexpr Index kFitBlock = 4096;

struct QuadraticObjective {
  Matrix A;  // E[Σ_i ∂_iT ∂_iTᵀ]
  Vector b;  // E[Σ_i ∂_i²T]
};

// The moment table must reach degree 2K − 2 for a basis of degree K.
QuadraticObjective assemble_polynomial_objective(const MonomialBasis& basis,
                                                 const MomentTable& table,
                                                 const MomentStats& stats);

// θ̂ = −(A + λ diag(ridge_weights))⁻¹ b; throws Error (suggesting --ridge) when singular.
Vector solve_quadratic_objective(const QuadraticObjective& objective, double ridge,
                                 const Vector& ridge_weights);

}  // namespace scorematch
