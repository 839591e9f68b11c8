// scorematch diag: convergence diagnostics (split rank-normalised R-hat, bulk/tail ESS, MCSE) of
// sampler output, the kernel Stein discrepancy against a model's score, and energy distance / MMD
// against reference draws. Prints a table and writes a JSON report (atomically).
#pragma once
#include <filesystem>
#include <fstream>

#include "diagnose.hpp"
#include "score_source.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/dist/comm.hpp"
#include "scorematch/io/dataset.hpp"
#include "scorematch/io/output_dir.hpp"

namespace scorematch::app {

struct DiagJob {
  std::string samples, model, target, reference, out;
  Index chains = 0, ksd_rows = 4000;
  Index superchains = 0;  // nested R-hat (0: off)
  double nested_threshold = 1.01;
  std::vector<std::string> nested_options_given;  // --nested-threshold (needs --superchains)
  bool ksd_test = false;                          // KSD goodness-of-fit test (wild bootstrap)
  Index bootstrap = 1000;
  std::uint64_t seed = 0;
  std::vector<std::string> test_options_given;  // --bootstrap/--seed as given (need --ksd-test)
};

void run_diag(const dist::Comm& comm, DiagJob& job);

}  // namespace scorematch::app
