#include "scorematch/diagnostics/stein.hpp"

#include <cmath>

#include "scorematch/core/error.hpp"

namespace scorematch::diagnostics {

namespace {
using RowArr = Eigen::Array<double, 1, Eigen::Dynamic, Eigen::RowMajor, 1, kPairBlock>;

// Calls sink(i, j0, u) with u = (u(x_i, x_j))_{j0 ≤ j < j0 + |u|} (an Eigen row expression) for
// every row i of `rows` and every column block j0 of all n rows (the header's Stein kernel).
template <class Sink>
void for_each_stein_block(const Matrix& x, const Matrix& s, RowRange rows, double c, double beta,
                          Sink sink) {
  if (x.rows() != s.rows() || x.cols() != s.cols())
    throw Error("KSD: samples and scores must have the same shape");
  const Index n = x.rows(), d = x.cols();
  const Vector xx = x.rowwise().squaredNorm();
  const Vector sx = (s.array() * x.array()).rowwise().sum();  // s_i·x_i
  // (s_j − s_i)·(x_i − x_j) = [x_i s_i]·[s_j x_j] − s_i·x_i − s_j·x_j: one GEMM with depth 2d.
  Matrix xs(n, 2 * d), sx_swapped(n, 2 * d);
  xs << x, s;
  sx_swapped << s, x;
  const double c2 = c * c, two_beta = 2.0 * beta, dd = static_cast<double>(d);
  const double curvature = 4.0 * beta * (beta - 1.0);
  // Per block: three GEMMs into reused buffers, then one fused pass per row i over the block's
  // columns j, with the row temporaries on the stack (L1): the whole-block array temporaries of
  // the first version (6 × 32 KiB per block, allocated and zeroed) made the pass memory-bound.
  Matrix g_xx(kPairBlock, kPairBlock), g_ss(kPairBlock, kPairBlock),
      g_cross(kPairBlock, kPairBlock);
  for (Index i0 = rows.begin; i0 < rows.end; i0 += kPairBlock) {
    const Index ni = std::min(kPairBlock, rows.end - i0);
    for (Index j0 = 0; j0 < n; j0 += kPairBlock) {
      const Index nj = std::min(kPairBlock, n - j0);
      auto xx_ij = g_xx.topLeftCorner(ni, nj), ss_ij = g_ss.topLeftCorner(ni, nj),
           cross_ij = g_cross.topLeftCorner(ni, nj);
      xx_ij.noalias() = x.middleRows(i0, ni) * x.middleRows(j0, nj).transpose();
      ss_ij.noalias() = s.middleRows(i0, ni) * s.middleRows(j0, nj).transpose();
      cross_ij.noalias() = xs.middleRows(i0, ni) * sx_swapped.middleRows(j0, nj).transpose();
      const auto xx_j = xx.segment(j0, nj).transpose().array();
      const auto sx_j = sx.segment(j0, nj).transpose().array();
      for (Index i = 0; i < ni; ++i) {
        // ‖x_i − x_j‖² (clamped: the GEMM form can round below 0), q = c² + ‖r‖², k = q^β.
        const RowArr r2 = (xx[i0 + i] + xx_j - 2.0 * xx_ij.row(i).array()).max(0.0);
        // For β = −½ one SIMD reciprocal square root and 1/q = k² (no division).
        const RowArr k = beta == -0.5 ? RowArr((c2 + r2).rsqrt()) : RowArr((c2 + r2).pow(beta));
        const RowArr inv_q = beta == -0.5 ? RowArr(k.square()) : RowArr((c2 + r2).inverse());
        const auto cross = cross_ij.row(i).array() - sx[i0 + i] - sx_j;
        // The kernel row as an expression: the sum evaluates it lazily (as it always has, so
        // KSD values keep their bits), the bootstrap materialises it.
        sink(i0 + i, j0,
             k * (ss_ij.row(i).array() +
                  inv_q * (two_beta * cross - two_beta * dd - curvature * inv_q * r2)));
      }
    }
  }
}
}  // namespace

double imq_stein_sum(const Matrix& x, const Matrix& s, RowRange rows, double c, double beta) {
  double total = 0.0;
  for_each_stein_block(x, s, rows, c, beta, [&](Index, Index, const auto& u) { total += u.sum(); });
  return total;
}

SteinBootstrapSums imq_stein_bootstrap_sums(const Matrix& x, const Matrix& s, RowRange rows,
                                            const Matrix& w) {
  const Index B = w.cols();
  SteinBootstrapSums out{0.0, Vector::Zero(B)};
  // Per row of the current row block: Σ_j u_ij w_jb, Σ_j u_ij and u_ii, over the column blocks.
  Matrix acc = Matrix::Zero(kPairBlock, B);
  Vector row_sum = Vector::Zero(kPairBlock), diagonal = Vector::Zero(kPairBlock);
  for_each_stein_block(x, s, rows, 1.0, -0.5, [&](Index i, Index j0, const auto& expr) {
    const RowArr u = expr;
    const Index r = (i - rows.begin) % kPairBlock, nj = u.size();
    acc.row(r).noalias() += u.matrix() * w.middleRows(j0, nj);
    for (Index j = 0; j < nj; ++j) row_sum[r] += u[j];
    if (i >= j0 && i < j0 + nj) diagonal[r] = u[i - j0];
    if (j0 + nj != x.rows()) return;  // row i is complete after its last column block
    // Σ_{j≠i} u_ij, and Σ_{j≠i} w_ib u_ij w_jb (w_ib² = 1 removes the diagonal term).
    out.u_sum += row_sum[r] - diagonal[r];
    out.boot += (w.row(i).array() * acc.row(r).array()).matrix().transpose() -
                Vector::Constant(B, diagonal[r]);
    acc.row(r).setZero();
    row_sum[r] = 0.0;
  });
  return out;
}

double pair_sum(const Matrix& a, const Matrix& b, RowRange rows, PairFunction f) {
  if (a.cols() != b.cols()) throw Error("two-sample distance: dimensions differ");
  const Vector aa = a.rowwise().squaredNorm(), bb = b.rowwise().squaredNorm();
  double total = 0.0;
  for (Index i0 = rows.begin; i0 < rows.end; i0 += kPairBlock) {
    const Index ni = std::min(kPairBlock, rows.end - i0);
    for (Index j0 = 0; j0 < b.rows(); j0 += kPairBlock) {
      const Index nj = std::min(kPairBlock, b.rows() - j0);
      const Matrix ab = a.middleRows(i0, ni) * b.middleRows(j0, nj).transpose();
      for (Index i = 0; i < ni; ++i)
        for (Index j = 0; j < nj; ++j) {
          const double r2 = std::max(0.0, aa[i0 + i] + bb[j0 + j] - 2.0 * ab(i, j));
          total += f == PairFunction::distance ? std::sqrt(r2) : 1.0 / std::sqrt(1.0 + r2);
        }
    }
  }
  return total;
}

}  // namespace scorematch::diagnostics
