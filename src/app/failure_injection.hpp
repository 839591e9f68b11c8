// Test hook: make one rank fail on purpose, to check that a failing rank ends the whole job
// promptly (MPI_Abort naming the rank and the cause, or mpirun/srun tearing the job down) rather
// than leaving the other ranks hanging in their next collective.
//   SCOREMATCH_TEST_FAIL=<rank>:<step>:error   that rank throws a local (non-agreed) I/O error
//   SCOREMATCH_TEST_FAIL=<rank>:<step>:kill    that rank dies by SIGKILL
#pragma once
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "scorematch/core/types.hpp"

namespace scorematch::app {

struct FailureInjection {
  Index step = -1;  // -1: no failure on this rank
  bool kill = false;

  void maybe_fail(Index current) const {
    if (current != step) return;
    if (kill) std::raise(SIGKILL);
    throw std::runtime_error("injected I/O error at step " + std::to_string(step) +
                             " (SCOREMATCH_TEST_FAIL)");
  }
};

inline FailureInjection failure_injection(int rank) {
  FailureInjection f;
  const char* spec = std::getenv("SCOREMATCH_TEST_FAIL");
  if (spec == nullptr) return f;
  int r = -1;
  long long s = -1;
  char mode[16] = {};
  if (std::sscanf(spec, "%d:%lld:%15s", &r, &s, mode) != 3 || r != rank) return f;
  f.step = static_cast<Index>(s);
  f.kill = std::string(mode) == "kill";
  return f;
}

}  // namespace scorematch::app
