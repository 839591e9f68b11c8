// One run control for every long loop (training steps, sampler transitions): stop signals agreed
// over ranks, the preemption exit, the checkpoint cadence, the status line and the test hooks.
// A driver asks it what to do at each step; it never computes anything of the run itself.
//
// Stop protocol (SLURM/PBS preemption): SIGTERM/SIGUSR1/SIGINT only set a flag (stop_signals.hpp);
// the loop finishes its step, the ranks agree on the flag (stop_requested(), or the flag rides in
// a reduction the step already does: local_stop_flag()), the driver writes a checkpoint and calls
// stop(), which throws ExitRequest{preempt_exit_code} so that main returns that status on every
// rank (75 = EX_TEMPFAIL by default: "stopped, checkpoint written, no output yet").
//
// Test hooks (environment, all ranks):
//   SCOREMATCH_TEST_SIGTERM_AT_STEP=N   a SIGTERM arrives while step N runs
//   SCOREMATCH_TEST_KILL_AFTER_STEP=N   SIGKILL right after step N
//   SCOREMATCH_TEST_FAIL=rank:step:mode see failure_injection.hpp
#pragma once
#include <string>

#include "failure_injection.hpp"
#include "progress.hpp"
#include "scorematch/core/types.hpp"
#include "scorematch/dist/comm.hpp"
#include "stop_signals.hpp"

namespace scorematch::app {

// Thrown (on every rank) to end the program early with a given status; main returns `code`.
struct ExitRequest {
  int code = 0;
};

struct RunControlSettings {
  Index total = 0;             // steps of the whole run
  Index checkpoint_every = 0;  // periodic checkpoints (0: only on a stop signal)
  Index progress_every = 1;    // status-line cadence when stderr is not a terminal
  bool show_progress = true;   // rank 0 draws the status line
  int preempt_exit_code = 75;
};

class RunControl {
 public:
  RunControl(const dist::Comm& comm, const RunControlSettings& settings);

  // 1 when this rank recorded a stop signal, for a reduction the step already performs.
  static double local_stop_flag() { return stop_signal() != 0 ? 1.0 : 0.0; }
  // Collective: true when any rank recorded a stop signal.
  bool stop_requested() const;

  // The end of the next segment of work starting after `step`: at most `segment` steps, never
  // across a periodic checkpoint.
  Index segment_end(Index step, Index segment) const;
  // True at a periodic checkpoint strictly before the end of the run.
  bool checkpoint_due(Index step) const;

  // Test hooks for the steps (from, to]: the SIGTERM hook fires when the interval holds its
  // step; the kill and failure hooks after step `to`.
  void signal_hook(Index from, Index to) const;
  void after_step(Index step) const;

  void progress(Index step, const std::string& text);
  // Ends the status line, prints `message` on rank 0, and throws ExitRequest.
  [[noreturn]] void stop(const std::string& message);
  void finish() { progress_.finish(); }
  const RunControlSettings& settings() const { return settings_; }

 private:
  const dist::Comm& comm_;
  RunControlSettings settings_;
  Progress progress_;
  FailureInjection failure_;
  long term_at_ = -1, kill_after_ = -1;
};

}  // namespace scorematch::app
