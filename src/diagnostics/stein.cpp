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
      const Matrix xixj = xi * xj.transpose();  // x_i·x_j
      const Matrix sisj = si * sj.transpose();  // s_i·s_j
      const Matrix sixj = si * xj.transpose();  // s_i·x_j
      const Matrix xisj = xi * sj.transpose();  // x_i·s_j (= s_j·x_i)
      for (Index a = 0; a < ni; ++a) {
        for (Index b = 0; b < nj; ++b) {
          const double r2 = std::max(0.0, xx[i0 + a] + xx[j0 + b] - 2.0 * xixj(a, b));
          const double q = c2 + r2;
          const double kq = beta == -0.5 ? 1.0 / std::sqrt(q) : std::pow(q, beta);
          const double k1 = kq / q, k2 = k1 / q;
          // (s_j − s_i)·(x_i − x_j)
          const double cross = xisj(a, b) - sx[j0 + b] - sx[i0 + a] + sixj(a, b);
          total += kq * sisj(a, b) + 2.0 * beta * k1 * cross - 2.0 * beta * d * k1 -
                   4.0 * beta * (beta - 1.0) * k2 * r2;
        }
      }
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
