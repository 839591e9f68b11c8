#include "scorematch/diagnostics/two_sample.hpp"

#include <cmath>
#include <exception>
#include <string>

#include "scorematch/core/error.hpp"
#include "scorematch/diagnostics/stein.hpp"

namespace scorematch::diagnostics {

bool pair_distances_overflow(const Matrix& a, const Matrix& b) {
  const double reach = a.cwiseAbs().maxCoeff() + b.cwiseAbs().maxCoeff();
  return !std::isfinite(reach * reach * static_cast<double>(a.cols()));
}

double kernel_stein_discrepancy2(const Collective& collective, const Matrix& x,
                                 const ScoreModel& model) {
  const Index n = x.rows();
  const RowRange mine = balanced_range(n, collective.rank(), collective.size());
  // Every rank reaches the agreement below, also when its own evaluation threw, so that no rank
  // waits in a collective the others left.
  Matrix local;
  std::string failure;
  try {
    local = model.score(x.middleRows(mine.begin, mine.size()));
    if (!local.allFinite()) failure = "the model's score is NaN or Inf at some draws";
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (collective.allreduce_max(failure.empty() ? 0.0 : 1.0) > 0)
    throw Error(failure.empty() ? "the model's score is NaN or Inf at some draws" : failure);
  const Matrix scores = gather_by_index(collective, local, mine.begin, n);
  const double sum = block_sum(collective, n, kPairBlock,
                               [&](RowRange rows) { return imq_stein_sum(x, scores, rows); });
  return sum / (static_cast<double>(n) * static_cast<double>(n));
}

TwoSample two_sample_statistics(const Collective& collective, const Matrix& x, const Matrix& y) {
  auto mean_pairs = [&](const Matrix& a, const Matrix& b, PairFunction f) {
    return block_sum(collective, a.rows(), kPairBlock,
                     [&](RowRange rows) { return pair_sum(a, b, rows, f); }) /
           (static_cast<double>(a.rows()) * static_cast<double>(b.rows()));
  };
  const double xy = mean_pairs(x, y, PairFunction::distance);
  const double xx = mean_pairs(x, x, PairFunction::distance);
  const double yy = mean_pairs(y, y, PairFunction::distance);
  const double kxy = mean_pairs(x, y, PairFunction::imq_kernel);
  const double kxx = mean_pairs(x, x, PairFunction::imq_kernel);
  const double kyy = mean_pairs(y, y, PairFunction::imq_kernel);
  return {2 * xy - xx - yy, kxx + kyy - 2 * kxy};
}

}  // namespace scorematch::diagnostics
