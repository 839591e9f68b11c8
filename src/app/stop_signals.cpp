#include "stop_signals.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <initializer_list>
#include <mutex>
#include <thread>

#include "scorematch/io/output_guard.hpp"

namespace scorematch::app {

namespace {
std::atomic<int> received{0};
static_assert(std::atomic<int>::is_always_lock_free, "written by a signal handler");
// The self-pipe of end_on_stop_signal's watcher: the handler writes one byte per signal (write()
// is async-signal-safe), the watcher thread blocks reading it.
int wake_pipe[2] = {-1, -1};

extern "C" void on_stop_signal(int signal) {
  const int saved = errno;
  received.store(signal);
  if (wake_pipe[1] >= 0) {
    const char byte = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_pipe[1], &byte, 1);
  }
  errno = saved;
}

// Removes this process's staging (temporary output directories and files, its output lock) and
// ends it by the signal's default action, as an uncaught signal would have, without the leftovers.
[[noreturn]] void end_by(int signal) {
  io::remove_staging();
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  sigaction(signal, &action, nullptr);
  std::raise(signal);  // not blocked in this thread: the default action ends the process
  std::_Exit(128 + signal);
}
}  // namespace

void install_stop_handlers() {
  if (::pipe2(wake_pipe, O_CLOEXEC) != 0) wake_pipe[0] = wake_pipe[1] = -1;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  // Installed for the whole run: interrupted system calls (reads, writes, fsync, MPI's sockets)
  // restart instead of failing with EINTR when a (repeated) stop signal arrives.
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGTERM, SIGUSR1, SIGINT}) sigaction(signal, &action, nullptr);
}

void end_on_stop_signal() {
  if (const int signal = received.load(); signal != 0) end_by(signal);  // arrived during start-up
  static std::once_flag started;
  std::call_once(started, [] {
    if (wake_pipe[0] < 0) return;  // no pipe: the signal stays recorded only
    std::thread([] {
      char byte = 0;
      while (::read(wake_pipe[0], &byte, 1) < 0 && errno == EINTR) {
      }
      end_by(received.load() != 0 ? received.load() : SIGTERM);
    }).detach();
  });
}

int stop_signal() {
  return received.load();
}

}  // namespace scorematch::app
