// SIGTERM / SIGUSR1 / SIGINT ask a long run to stop cleanly: the handler only records the signal;
// the training loop finishes its step, agrees with the other ranks (the flag rides in the step's
// allreduce), writes a checkpoint and exits.
#pragma once
#include <csignal>

namespace scorematch::app {

// Installed on the first line of main, so that a signal during start-up is never fatal.
void install_stop_handlers();
// For commands without checkpoints: a stop signal (recorded already, or arriving later) ends the
// process by its default action after removing the run's staging (io::remove_staging: the
// temporary output directory or file and the output lock), so an interrupted run leaves nothing
// behind. A watcher thread, woken through a self-pipe by the handler, does the removal: a signal
// handler may not call the filesystem library.
void end_on_stop_signal();
// The signal received so far, or 0.
int stop_signal();

}  // namespace scorematch::app
