// The diagnostics shared by `diag` and the end of `sample`: per-dimension convergence summaries
// (dimensions split over ranks), the kernel Stein discrepancy against a model's score and the
// energy distance / MMD against reference draws (pair blocks split over ranks).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scorematch/dist/comm.hpp"
#include "scorematch/models/score_model.hpp"

namespace scorematch::app {

struct DiagRequest {
  std::string samples;  // NPY/CSV, (chains × draws) × d, chain-major
  Index chains = 0;
  const ScoreModel* model = nullptr;  // for the KSD (optional)
  std::string reference;              // reference draws for energy distance / MMD (optional)
  Index max_pairs_rows = 4000;        // KSD / two-sample statistics use an evenly thinned subsample
  std::vector<std::string> columns;   // names for the table (default: the file's: x1, x2, …)
  Index superchains = 0;              // > 0: nested R-hat over this many superchains
  double nested_threshold = 1.01;     // nested R-hat converged below 1 + δ
  Index ksd_bootstrap = 0;            // > 0: the KSD test with this many wild-bootstrap replicates
  std::uint64_t ksd_seed = 0;
  std::string chains_from = "";  // where `chains` came from, for messages (default: "--chains N")
};

nlohmann::json run_diagnostics(const dist::Comm& comm, const DiagRequest& request);

// A readable table and a one-line verdict.
std::string format_report(const nlohmann::json& report);

}  // namespace scorematch::app
