// scorematch loglik: log-likelihood of data under the probability-flow ODE of a time-conditioned
// score (see sampling/flow_likelihood.hpp), rows sharded over ranks. With an analytic target the
// exact log-density is reported next to it.
#pragma once
#include <cmath>
#include <optional>

#include "data_shard.hpp"
#include "score_source.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/dist/collective_write.hpp"
#include "scorematch/dist/column_stats.hpp"
#include "scorematch/dist/comm.hpp"
#include "scorematch/io/output_dir.hpp"
#include "scorematch/sampling/flow_likelihood.hpp"

namespace scorematch::app {

struct LoglikJob {
  std::string model, target, data, out;
  double beta_min = 0.1, beta_max = 20.0;
  FlowLikelihoodSettings s;
};

void run_loglik(const dist::Comm& comm, LoglikJob& job);

}  // namespace scorematch::app
