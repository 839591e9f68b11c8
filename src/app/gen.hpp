// scorematch gen: synthetic data from an analytic target. Row i is drawn from
// Philox(seed, stream = i), each rank draws and writes only its rows, so the file is bitwise
// identical for any number of ranks and threads.
#pragma once
#include <filesystem>

#include "scorematch/core/error.hpp"
#include "scorematch/dist/collective_write.hpp"
#include "scorematch/dist/comm.hpp"
#include "scorematch/models/targets.hpp"

namespace scorematch::app {

struct GenJob {
  std::string dist = "gaussian", out;
  Index n = 1000, dim = 2;
  std::uint64_t seed = 1;
};

void run_gen(const dist::Comm& comm, GenJob& job);

}  // namespace scorematch::app
