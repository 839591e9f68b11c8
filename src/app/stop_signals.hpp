// SIGTERM / SIGUSR1 / SIGINT ask a long run to stop cleanly: the handler only records the signal;
// the training loop finishes its step, agrees with the other ranks (the flag rides in the step's
// allreduce), writes a checkpoint and exits.
#pragma once
#include <sys/types.h>

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
// After end_on_stop_signal(): ends the process as the watcher would if a stop signal has arrived
// (main calls it when the command returns, so a command that ends, or fails because the watcher
// removed its staging, before the watcher raises the signal still ends by the signal).
void end_if_stopped();
// The child process (gnuplot) to stop when a signal ends this one; 0 for none.
void set_child_process(pid_t pid);
// The signal received so far, or 0.
int stop_signal();

}  // namespace scorematch::app
