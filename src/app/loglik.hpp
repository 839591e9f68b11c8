// scorematch loglik: per-row log-likelihood of data, rows sharded over ranks, for every model
// kind: a time-conditioned score through the probability-flow ODE (sampling/flow_likelihood.hpp;
// with a gaussian/gmm target the exact log-density is reported next to it), an energy model as
// log p(x) = −φ(x) − log Z with log Z from `scorematch logz` (--logz FILE, or logz.json in the
// model directory; 0 for normalised energies). The SE of the mean carries the SE of log Z:
// se² = s²/n + se(log Z)², since one log Z error shifts every row alike.
#pragma once
#include <cmath>
#include <optional>

#include "data_shard.hpp"
#include "logz.hpp"
#include "score_source.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/dist/collective_write.hpp"
#include "scorematch/dist/column_stats.hpp"
#include "scorematch/dist/comm.hpp"
#include "scorematch/io/output_dir.hpp"
#include "scorematch/sampling/flow_likelihood.hpp"

namespace scorematch::app {

struct LoglikJob {
  std::string model, target, data, out, logz;
  double beta_min = 0.1, beta_max = 20.0;
  FlowLikelihoodSettings s;
  std::vector<std::string> flow_options_given;  // ODE settings as named (energy models refuse)
};

void run_loglik(const dist::Comm& comm, LoglikJob& job);

// Per-row log-densities of this rank's rows (a block shard) and how they were made.
struct RowLogDensity {
  Vector value;
  Vector probe_se;  // flow: per-row Hutchinson SE (empty otherwise)
  Vector exact;     // flow with an analytic target: the exact values (empty otherwise)
  nlohmann::json method;
  std::optional<LogZEstimate> log_z;  // energy models: the normaliser used
};
bool is_time_conditioned(const LoadedScore& src);
// The log Z of an energy model: `logz` (a file or directory), else logz.json in `model_dir`, else
// 0 for a normalised energy; nothing when none is known.
std::optional<LogZEstimate> find_normaliser(const std::string& logz, const std::string& model_dir,
                                            const ScoreModel& model);
// Collective; throws Error when the model's log-likelihood is not defined or has no log Z.
RowLogDensity row_log_density(const dist::Comm& comm, const LoglikJob& o, const Shard& shard,
                              const LoadedScore& src);

}  // namespace scorematch::app
