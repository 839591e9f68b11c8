// Kernel Stein discrepancy and two-sample distances.
//
// KSD (Liu, Lee & Jordan 2016; Chwialkowski et al. 2016) with the inverse multiquadric kernel
// k(x, y) = (c² + ‖x − y‖²)^β, β = −½ (Gorham & Mackey 2017: with β ∈ (−1, 0) the KSD detects
// non-convergence). With r = x − y, q = c² + ‖r‖² and the scores s_x, s_y of the model, the Stein
// kernel u(x, y) = s_xᵀs_y k + s_xᵀ∇_y k + s_yᵀ∇_x k + tr ∇_x∇_y k is
//   u = q^β s_x·s_y + 2β q^{β−1} (s_y − s_x)·r − 2βd q^{β−1} − 4β(β−1) q^{β−2} ‖r‖²,
// and KSD² = (1/n²) Σ_ij u(x_i, x_j) (V-statistic). It needs only the score, so unnormalised models
// are fine. Pair blocks are evaluated with GEMMs: ‖r‖² from X Xᵀ, s_x·s_y from S Sᵀ, and
// (s_y − s_x)·r = s_y·x_i − s_y·x_j − s_x·x_i + s_x·x_j from S Xᵀ and X Sᵀ.
//
// Energy distance (Székely & Rizzo 2013): 2E‖X − Y‖ − E‖X − X'‖ − E‖Y − Y'‖ (V-statistics).
// MMD² with the same IMQ kernel (c = 1): E k(X, X') + E k(Y, Y') − 2E k(X, Y).
#pragma once
#include "scorematch/core/types.hpp"

namespace scorematch::diagnostics {

inline constexpr Index kPairBlock = 64;

// Σ_{i ∈ rows} Σ_j u(x_i, x_j) over all j, for rows given as a range of X (n × d) with scores S.
double imq_stein_sum(const Matrix& x, const Matrix& s, RowRange rows, double c = 1.0,
                     double beta = -0.5);

// The KSD test's sums over the rows of `rows` (IMQ, c = 1, β = −½): u_sum = Σ_i Σ_{j≠i} u_ij (the
// U-statistic's numerator) and, for each column b of the n × B Rademacher matrix w,
// boot_b = Σ_i Σ_{j≠i} w_ib u_ij w_jb (the wild-bootstrap replicates; Chwialkowski, Strathmann &
// Gretton 2016). rows.begin must be a multiple of kPairBlock.
struct SteinBootstrapSums {
  double u_sum = 0;
  Vector boot;
};
SteinBootstrapSums imq_stein_bootstrap_sums(const Matrix& x, const Matrix& s, RowRange rows,
                                            const Matrix& w);

// Σ_{i ∈ rows} Σ_j f(‖a_i − b_j‖) for f = ‖·‖ (distance) or the IMQ kernel (c = 1, β = −½).
enum class PairFunction { distance, imq_kernel };
double pair_sum(const Matrix& a, const Matrix& b, RowRange rows, PairFunction f);

}  // namespace scorematch::diagnostics
