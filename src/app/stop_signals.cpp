#include "stop_signals.hpp"

#include <initializer_list>

namespace scorematch::app {

namespace {
volatile std::sig_atomic_t received = 0;
extern "C" void on_stop_signal(int signal) {
  received = signal;
}
}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  // Installed for the whole run: interrupted system calls (reads, writes, fsync, MPI's sockets)
  // restart instead of failing with EINTR when a (repeated) stop signal arrives.
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGTERM, SIGUSR1, SIGINT}) sigaction(signal, &action, nullptr);
}

void restore_default_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGTERM, SIGUSR1, SIGINT}) sigaction(signal, &action, nullptr);
  if (received != 0) std::raise(received);  // deliver what arrived while it was recorded
}

int stop_signal() {
  return received;
}

}  // namespace scorematch::app
