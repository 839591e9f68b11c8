#include "scorematch/diagnostics/stein.hpp"

#include <cmath>

#include "scorematch/core/error.hpp"

namespace scorematch::diagnostics {

double imq_stein_sum(const Matrix& x, const Matrix& s, RowRange rows, double c, double beta) {
  if (x.rows() != s.rows() || x.cols() != s.cols())
    throw Error("KSD: samples and scores must have the same shape");
  const Index n = x.rows();
  const double d = static_cast<double>(x.cols());
  const Vector xx = x.rowwise().squaredNorm();
  const Vector sx = (s.array() * x.array()).rowwise().sum();  // s_i·x_i
  const double c2 = c * c;
  double total = 0.0;
  for (Index i0 = rows.begin; i0 < rows.end; i0 += kPairBlock) {
    const Index ni = std::min(kPairBlock, rows.end - i0);
    const auto xi = x.middleRows(i0, ni);
    const auto si = s.middleRows(i0, ni);
    for (Index j0 = 0; j0 < n; j0 += kPairBlock) {
      const Index nj = std::min(kPairBlock, n - j0);
      const auto xj = x.middleRows(j0, nj);
      const auto sj = s.middleRows(j0, nj);
      // Whole-block array expressions (SIMD sqrt/division), columns j, rows i.
      using Arr = Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
      const Arr sisj = (si * sj.transpose()).array();  // s_i·s_j
      // (s_j − s_i)·(x_i − x_j) = x_i·s_j − s_j·x_j − s_i·x_i + s_i·x_j
      // (s_j − s_i)·(x_i − x_j) = x_i·s_j + s_i·x_j − s_i·x_i − s_j·x_j
      Arr cross = (xi * sj.transpose() + si * xj.transpose()).array();
      cross.colwise() -= sx.segment(i0, ni).array();
      cross.rowwise() -= sx.segment(j0, nj).transpose().array();
      Arr r2 = (-2.0 * (xi * xj.transpose())).array();  // ‖x_i − x_j‖²
      r2.colwise() += xx.segment(i0, ni).array();
      r2.rowwise() += xx.segment(j0, nj).transpose().array();
      r2 = r2.max(0.0);
      const Arr q = c2 + r2;
      // k = q^β; for β = −½ one SIMD square root and 1/q = k² (no further divisions).
      const Arr k = beta == -0.5 ? Arr(q.rsqrt()) : Arr(q.pow(beta));
      const Arr inv_q = beta == -0.5 ? Arr(k.square()) : Arr(q.inverse());
      total += (k * (sisj + inv_q * ((2.0 * beta) * cross - 2.0 * beta * d -
                                     (4.0 * beta * (beta - 1.0)) * inv_q * r2)))
                   .sum();
    }
  }
  return total;
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
