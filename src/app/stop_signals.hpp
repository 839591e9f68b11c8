// SIGTERM / SIGUSR1 / SIGINT ask a long run to stop cleanly: the handler only records the signal;
// the training loop finishes its step, agrees with the other ranks (the flag rides in the step's
// allreduce), writes a checkpoint and exits.
#pragma once
#include <csignal>

namespace scorematch::app {

// Installed on the first line of main, so that a signal during start-up is never fatal.
void install_stop_handlers();
// Back to the default actions (commands without checkpoints); re-raises a recorded signal.
void restore_default_stop_handlers();
// The signal received so far, or 0.
int stop_signal();

}  // namespace scorematch::app
