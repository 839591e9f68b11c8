// Helpers for sampler tests: run a sampler on chains [0, C) split like `ranks` ranks would, and
// moment checks with tolerances from the effective sample size.
#pragma once
#include <cmath>
#include <memory>

#include "scorematch/diagnostics/convergence.hpp"
#include "scorematch/sampling/chain_runner.hpp"

namespace scorematch::testing {

// All draws of `chains` chains (chain-major), computed as `ranks` ranks would (one ChainRunner per
// rank's block range, stacked in rank order), from prior or given initial states.
inline Matrix run_chains(const SamplerSettings& s, const ScoreSource& source, Index chains,
                         int ranks = 1, const Matrix* initial = nullptr) {
  const auto sampler = make_sampler(s, source);
  Vector shift = Vector::Zero(sampler->dim()), scale = Vector::Ones(sampler->dim());
  if (sampler->uses_model_coordinates()) {
    shift = source.noised->shift();
    scale = source.noised->scale();
  }
  Matrix all(chains * sampler->draws_per_chain(), sampler->dim());
  for (int r = 0; r < ranks; ++r) {
    const RowRange range = chain_shard(chains, r, ranks);
    const Matrix x0 = initial ? Matrix(initial->middleRows(range.begin, range.size()))
                              : prior_states(*sampler, range);
    ChainRunner runner(*sampler, range, x0, shift, scale);
    runner.advance(sampler->num_transitions());
    all.middleRows(range.begin * sampler->draws_per_chain(), runner.draws().rows()) =
        runner.draws();
  }
  return all;
}

// Dimension j of chain-major draws as a chains × draws matrix.
inline Matrix chain_matrix(const Matrix& draws, Index chains, Index j) {
  const Index n = draws.rows() / chains;
  Matrix c(chains, n);
  for (Index k = 0; k < chains; ++k) c.row(k) = draws.block(k * n, j, n, 1).transpose();
  return c;
}

// Means of chains [first, first + count) of chain-major draws (draws_per_chain rows each).
inline Matrix chain_means(const Matrix& draws, Index draws_per_chain, Index first, Index count) {
  Matrix m(count, draws.cols());
  for (Index c = 0; c < count; ++c)
    m.row(c) = draws.middleRows((first + c) * draws_per_chain, draws_per_chain).colwise().mean();
  return m;
}

// Column means of independent rows (one mean per independent chain, or one draw per chain) and
// their Monte-Carlo standard errors sd / √rows.
struct MeanMcse {
  Vector mean, mcse;
};
inline MeanMcse mean_and_mcse(const Matrix& rows) {
  const Index n = rows.rows();
  MeanMcse r;
  r.mean = rows.colwise().mean().transpose();
  r.mcse =
      ((rows.rowwise() - r.mean.transpose()).colwise().squaredNorm() / static_cast<double>(n - 1))
          .cwiseSqrt()
          .transpose() /
      std::sqrt(static_cast<double>(n));
  return r;
}

inline Matrix sample_covariance(const Matrix& x) {
  const Matrix centred = x.rowwise() - x.colwise().mean();
  return centred.transpose() * centred / static_cast<double>(x.rows() - 1);
}

}  // namespace scorematch::testing
