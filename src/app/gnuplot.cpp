#include "gnuplot.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "scorematch/core/error.hpp"
#include "scorematch/io/output_guard.hpp"
#include "stop_signals.hpp"

extern char** environ;  // POSIX: the process environment, passed on to gnuplot

namespace scorematch::app {

void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw Error("cannot write '" + path + "'");
}

std::string gnuplot_quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// gnuplot runs as a child process started by posix_spawnp, without a shell: the directory and
// script names reach it as arguments, never as shell words, so no path can inject a command
// (std::system would have run "cd '<dir>' && gnuplot '<script>'"). posix_spawn also avoids
// fork(), which Open MPI warns about in a rank with registered memory. Callers run it on one
// rank only.
static int spawn_gnuplot(const std::string& dir, const std::string& script,
                         const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::string program = "gnuplot", argument = script;
  char* argv[] = {program.data(), argument.data(), nullptr};
  pid_t pid = 0;
  const int started = posix_spawnp(&pid, "gnuplot", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (started != 0) return -1;
  set_child_process(pid);  // a stop signal that ends this process stops gnuplot too
  int status = 0;
  int waited = 0;
  while ((waited = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  set_child_process(0);
  if (waited < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void run_gnuplot(const std::string& dir, const std::string& script, const std::string& png) {
  const std::string log = dir + "/gnuplot.log";
  if (spawn_gnuplot(dir, script, "gnuplot.log") != 0) {
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    throw Error(
        "gnuplot failed (is Debian's gnuplot-nox installed? tools/install-deps.sh "
        "installs it): " +
        text.str());
  }
  std::filesystem::remove(log);
  const std::string path = dir + "/" + png;
  if (!std::filesystem::exists(path) || std::filesystem::file_size(path) == 0)
    throw Error("gnuplot wrote no " + png);
}

void render_png(const std::string& target, const std::string& script, const std::string& png,
                const std::function<void(const std::filesystem::path& dir)>& write) {
  namespace fs = std::filesystem;
  const fs::path out(target);
  // Staged as "<target>.tmp-<pid>/", the name io's staging uses: a stop signal removes it
  // (io::register_staging), and so does the next run on the same output after a crash.
  const fs::path dir = out.string() + ".tmp-" + std::to_string(::getpid());
  io::register_staging(dir.string());
  const auto clean = [&] {
    std::error_code ec;
    fs::remove_all(dir, ec);
    io::unregister_staging(dir.string());
  };
  fs::create_directories(dir);
  try {
    write(dir);
    run_gnuplot(dir.string(), script, png);
    fs::rename(dir / png, out);
  } catch (...) {
    clean();
    throw;
  }
  clean();
}

}  // namespace scorematch::app
