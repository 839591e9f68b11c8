#include "scorematch/diagnostics/two_sample.hpp"

#include <cmath>
#include <exception>
#include <string>

#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"
#include "scorematch/core/random_fill.hpp"
#include "scorematch/core/random_stream.hpp"
#include "scorematch/diagnostics/stein.hpp"

namespace scorematch::diagnostics {

bool pair_distances_overflow(const Matrix& a, const Matrix& b) {
  const double reach = a.cwiseAbs().maxCoeff() + b.cwiseAbs().maxCoeff();
  return !std::isfinite(reach * reach * static_cast<double>(a.cols()));
}

namespace {
// The model's scores at every row of x on every rank, evaluated in shares over ranks.
Matrix gathered_scores(const Collective& collective, const Matrix& x, const ScoreModel& model) {
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
  return gather_by_index(collective, local, mine.begin, n);
}
}  // namespace

double kernel_stein_discrepancy2(const Collective& collective, const Matrix& x,
                                 const ScoreModel& model) {
  const Index n = x.rows();
  const Matrix scores = gathered_scores(collective, x, model);
  const double sum = block_sum(collective, n, kPairBlock,
                               [&](RowRange rows) { return imq_stein_sum(x, scores, rows); });
  return sum / (static_cast<double>(n) * static_cast<double>(n));
}

KsdTest ksd_test(const Collective& collective, const Matrix& x, const ScoreModel& model,
                 Index bootstrap, std::uint64_t seed) {
  const Index n = x.rows(), B = bootstrap;
  if (B < 1) throw InvalidSetting("bootstrap", "be at least 1", std::to_string(B));
  KsdTest out;
  out.bootstrap = B;
  out.rows = n;
  if (n < 2) {
    out.undefined = "the U-statistic needs at least 2 draws";
    return out;
  }
  const Matrix scores = gathered_scores(collective, x, model);
  // w: n × B Rademacher multipliers, column b = replicate b (the same on every rank).
  Matrix wt(B, n);
  fill_rademacher_rows(derive_seed(seed, kKsdBootstrapTag), nullptr, 0, 0, B, n, wt.data(), n);
  const Matrix w = wt.transpose();
  // Row blocks over ranks and threads; each block's partials in its own slot, summed in block
  // order after an allreduce in which every slot has one contributor: bitwise for any ranks.
  const Index blocks = (n + kPairBlock - 1) / kPairBlock;
  const RowRange mine = balanced_range(blocks, collective.rank(), collective.size());
  std::vector<double> partial(static_cast<std::size_t>(blocks * (1 + B)), 0.0);
  parallel::for_each_chunk(mine.size(), 1, [&](Index k, Index, Index) {
    const Index b = mine.begin + k;
    const SteinBootstrapSums sums =
        imq_stein_bootstrap_sums(x, scores, {b * kPairBlock, std::min(n, (b + 1) * kPairBlock)}, w);
    double* slot = partial.data() + b * (1 + B);
    slot[0] = sums.u_sum;
    std::copy(sums.boot.data(), sums.boot.data() + B, slot + 1);
  });
  collective.allreduce_sum(partial);
  double u_sum = 0;
  Vector boot = Vector::Zero(B);
  for (Index b = 0; b < blocks; ++b) {
    u_sum += partial[static_cast<std::size_t>(b * (1 + B))];
    boot += Eigen::Map<const Vector>(partial.data() + b * (1 + B) + 1, B);
  }
  const double pairs = static_cast<double>(n) * static_cast<double>(n - 1);
  out.statistic = u_sum / pairs;
  Index exceed = 0;
  for (Index b = 0; b < B; ++b) exceed += boot[b] / pairs >= out.statistic ? 1 : 0;
  out.p_value = static_cast<double>(1 + exceed) / static_cast<double>(1 + B);
  return out;
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
