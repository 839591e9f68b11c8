// scorematch logz: the log normalising constant log Z = log ∫ e^{−φ(x)} dx of an energy model, by
// annealed importance sampling (estimators/ais.hpp) with chains sharded over ranks, or exactly
// for models whose energy is normalised (gaussian fits, analytic targets: log Z = 0). Writes
// logz.json, read by `loglik` and `compare` to turn energies into log-densities.
#pragma once
#include <string>
#include <vector>

#include "scorematch/dist/comm.hpp"
#include "scorematch/estimators/ais.hpp"

namespace scorematch::app {

struct LogzJob {
  std::string model, target, data, out;
  std::string method = "auto";  // auto (exact where known, else ais) | ais | exact
  Index dim = 2;                // --target only
  double base_scale = 1.0;      // widens the Gaussian base's standard deviations
  AisSettings ais;
  // The AIS settings given (refused where the run never reads them), by LogzJob/AisSettings key
  // ("chains", "steps_per_temp", ...), how the user named them, and whether they were typed on
  // the command line (not from a job file). And how --dim was given (targets only).
  struct Given {
    std::string key, name;
    bool typed;
  };
  std::vector<Given> ais_given;
  std::string dim_given;
};

void run_logz(const dist::Comm& comm, LogzJob& job);

// The fields of a logz.json, as loglik and compare read them back.
struct LogZEstimate {
  double log_z = 0, se = 0;  // se NaN when undefined
  std::string method, source;
  std::string kind;  // the model kind it was estimated for ("" when not recorded)
  Index dim = 0;     // its dimension (0 when not recorded)
  // io::model_fingerprint of the model directory it was estimated for, and that directory as
  // given then ("" when not recorded: a target, or a logz.json before the fingerprint).
  std::string fingerprint, model;
};
// Reads `path` (a logz.json, or a directory holding one); throws Error naming the file.
LogZEstimate read_logz(const std::string& path);

}  // namespace scorematch::app
