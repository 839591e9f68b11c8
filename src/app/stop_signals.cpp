#include "stop_signals.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
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

std::atomic<pid_t> child{0};
std::atomic<bool> ending_on_signal{false};

// Ends this process by `signal`'s default action, as an uncaught signal would have, without the
// leftovers: the other threads may still run meanwhile, so their output is silenced first (a
// write they were in the middle of would report the staging it lost), a running gnuplot is
// stopped, the staging (temporary output directories and files, the output lock) is removed.
// A process with nothing to remove (a rank other than 0 under mpirun) waits a moment before it
// ends: its end makes mpirun kill the job's other ranks, maybe before rank 0 has cleaned up.
[[noreturn]] void end_by(int signal) {
  if (const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC); null >= 0) {
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
  }
  if (const pid_t running = child.load(); running > 0) ::kill(running, SIGTERM);
  if (!io::remove_staging()) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  sigaction(signal, &action, nullptr);
  std::raise(signal);  // not blocked in this thread: the default action ends the process
  std::_Exit(128 + signal);
}
}  // namespace

void install_stop_handlers() {
  // The write end does not block: a command that never reads it (fit, sample) may receive any
  // number of signals.
  if (::pipe2(wake_pipe, O_CLOEXEC) != 0 || ::fcntl(wake_pipe[1], F_SETFL, O_NONBLOCK) != 0)
    wake_pipe[0] = wake_pipe[1] = -1;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  // Installed for the whole run: interrupted system calls (reads, writes, fsync, MPI's sockets)
  // restart instead of failing with EINTR when a (repeated) stop signal arrives.
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGTERM, SIGUSR1, SIGINT}) sigaction(signal, &action, nullptr);
}

void end_on_stop_signal() {
  ending_on_signal.store(true);
  end_if_stopped();  // a signal that arrived during start-up
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

void end_if_stopped() {
  if (const int signal = received.load(); signal != 0 && ending_on_signal.load()) end_by(signal);
}

void set_child_process(pid_t pid) {
  child.store(pid);
}

int stop_signal() {
  return received.load();
}

}  // namespace scorematch::app
