#include "scorematch/estimators/polynomial_sm.hpp"

#include <algorithm>
#include <cmath>

#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"

namespace scorematch {

MomentTable::MomentTable(Index dim, int max_degree) : dim_(dim) {
  exponents_.push_back(Exponent(static_cast<std::size_t>(dim), 0));
  parent_.push_back(-1);
  var_.push_back(-1);
  index_[exponents_[0]] = 0;
  for (int degree = 1; degree <= max_degree; ++degree) {
    const MonomialBasis level = MonomialBasis::total_degree(dim, degree, degree);
    for (const Exponent& gamma : level.exponents()) {
      const auto first = std::find_if(gamma.begin(), gamma.end(), [](int a) { return a > 0; });
      const auto v = static_cast<Index>(first - gamma.begin());
      Exponent up = gamma;
      --up[static_cast<std::size_t>(v)];
      index_[gamma] = size();
      exponents_.push_back(gamma);
      parent_.push_back(index_.at(up));
      var_.push_back(v);
    }
  }
}

Index MomentTable::index_of(const Exponent& gamma) const {
  auto it = index_.find(gamma);
  if (it == index_.end()) throw Error("internal: moment of too high a degree requested");
  return it->second;
}

std::vector<double> MomentStats::pack() const {
  std::vector<double> buffer{count};
  buffer.insert(buffer.end(), sums.data(), sums.data() + sums.size());
  return buffer;
}

MomentStats MomentStats::unpack(const std::vector<double>& buffer) {
  return {buffer[0],
          Eigen::Map<const Vector>(buffer.data() + 1, static_cast<Index>(buffer.size()) - 1)};
}

MomentStats accumulate_moments(const Matrix& x, const Vector& shift, const Vector& scale,
                               const MomentTable& table) {
  return MomentStats::unpack(moment_partials(x, shift, scale, table).values());
}

ExactVectorSum moment_partials(const Matrix& x, const Vector& shift, const Vector& scale,
                               const MomentTable& table) {
  const Index q = table.size();
  // Keep a chunk's moment columns near 256 KiB; the chunk size depends on q only (a power of two
  // dividing kFitBlock, so chunks are the same global rows on any decomposition into blocks).
  Index rows = 16;
  while (rows * 2 <= std::max<Index>(16, 32768 / q) && rows * 2 <= kFitBlock) rows *= 2;
  return parallel::exact_reduce(
      x.rows(), rows, static_cast<std::size_t>(1 + q), [&](Index begin, Index end) {
        const Index n = end - begin;
        const Eigen::MatrixXd z =
            ((x.middleRows(begin, n).rowwise() - shift.transpose()).array().rowwise() /
             scale.transpose().array())
                .matrix();
        Eigen::MatrixXd cols(n, q);  // column-major: one contiguous column per moment
        cols.col(0).setOnes();
        for (Index g = 1; g < q; ++g)
          cols.col(g) = cols.col(table.parent(g)).cwiseProduct(z.col(table.var(g)));
        return MomentStats{static_cast<double>(n), cols.colwise().sum().transpose()}.pack();
      });
}

QuadraticObjective assemble_polynomial_objective(const MonomialBasis& basis,
                                                 const MomentTable& table,
                                                 const MomentStats& stats) {
  const Index p = basis.size(), d = basis.dim();
  if (stats.count < 1.0) throw Error("no data rows: cannot fit a polynomial family");
  const Vector mean = stats.sums / stats.count;
  QuadraticObjective obj{Matrix::Zero(p, p), Vector::Zero(p)};
  const auto& exps = basis.exponents();
  for (Index a = 0; a < p; ++a) {
    const Exponent& alpha = exps[static_cast<std::size_t>(a)];
    for (Index i = 0; i < d; ++i) {
      if (alpha[i] >= 2) {
        Exponent gamma = alpha;
        gamma[i] -= 2;
        obj.b[a] += alpha[i] * (alpha[i] - 1) * mean[table.index_of(gamma)];
      }
    }
    for (Index c = a; c < p; ++c) {
      const Exponent& beta = exps[static_cast<std::size_t>(c)];
      double value = 0.0;
      for (Index i = 0; i < d; ++i) {
        if (alpha[i] == 0 || beta[i] == 0) continue;
        Exponent gamma(static_cast<std::size_t>(d));
        for (Index j = 0; j < d; ++j) gamma[j] = alpha[j] + beta[j];
        gamma[i] -= 2;
        value += alpha[i] * beta[i] * mean[table.index_of(gamma)];
      }
      obj.A(a, c) = obj.A(c, a) = value;
    }
  }
  return obj;
}

Vector solve_quadratic_objective(const QuadraticObjective& objective, double ridge,
                                 const Vector& ridge_weights) {
  if (!(ridge >= 0.0) || !std::isfinite(ridge))
    throw InvalidSetting("ridge", "be a finite number ≥ 0", number_text(ridge));
  const Matrix h = objective.A + ridge * Matrix(ridge_weights.asDiagonal());
  Eigen::LDLT<Eigen::MatrixXd> ldlt(h);
  // A is a Gram matrix (PSD); treat pivots tiny against its largest as zero.
  const double largest = ldlt.vectorD().cwiseAbs().maxCoeff();
  const double smallest = ldlt.vectorD().minCoeff();
  if (ldlt.info() != Eigen::Success || !(smallest > 1e-13 * largest))
    throw Error(
        "the score-matching matrix A is singular (too few distinct rows for the number of "
        "monomials, or a constant column); add a ridge penalty, e.g. " +
        setting("ridge") + " 1e-6");
  return -ldlt.solve(objective.b);
}

}  // namespace scorematch
