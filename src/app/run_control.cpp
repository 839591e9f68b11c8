#include "run_control.hpp"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <iostream>

namespace scorematch::app {

namespace {
long env_step(const char* name) {
  const char* text = std::getenv(name);
  return text != nullptr ? std::atol(text) : -1;
}
}  // namespace

RunControl::RunControl(const dist::Comm& comm, const RunControlSettings& settings)
    : comm_(comm),
      settings_(settings),
      progress_(comm.is_root() && settings.show_progress,
                static_cast<long>(std::max<Index>(1, settings.progress_every))),
      failure_(failure_injection(comm.rank())),
      term_at_(env_step("SCOREMATCH_TEST_SIGTERM_AT_STEP")),
      kill_after_(env_step("SCOREMATCH_TEST_KILL_AFTER_STEP")) {}

bool RunControl::stop_requested() const {
  return comm_.allreduce_max(local_stop_flag()) > 0;
}

Index RunControl::segment_end(Index step, Index segment) const {
  Index until = std::min(settings_.total, step + segment);
  const Index every = settings_.checkpoint_every;
  if (every > 0) until = std::min(until, (step / every + 1) * every);
  return until;
}

bool RunControl::checkpoint_due(Index step) const {
  return settings_.checkpoint_every > 0 && step % settings_.checkpoint_every == 0 &&
         step < settings_.total;
}

void RunControl::signal_hook(Index from, Index to) const {
  if (term_at_ > from && term_at_ <= to) std::raise(SIGTERM);
}

void RunControl::after_step(Index step) const {
  if (kill_after_ == step) std::raise(SIGKILL);
  failure_.maybe_fail(step);
}

void RunControl::progress(Index step, const std::string& text) {
  progress_.update(static_cast<long>(step), static_cast<long>(settings_.total), text);
}

void RunControl::stop(const std::string& message) {
  progress_.finish();
  if (comm_.is_root()) std::cout << message << std::flush;
  throw ExitRequest{settings_.preempt_exit_code};
}

}  // namespace scorematch::app
