#include "report.hpp"

#include <sys/resource.h>

#include <cstdio>
#include <iostream>

namespace scorematch::app {

void say(const dist::Comm& comm, const std::string& text) {
  if (comm.is_root()) std::cout << text << std::flush;
}

std::string fmt(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void print_timings(const dist::Comm& comm, const std::vector<std::string>& names,
                   const std::vector<double>& seconds) {
  std::vector<double> sum = seconds;
  comm.allreduce_sum(sum);
  std::string line = "timings (seconds; max / mean over ranks):";
  for (std::size_t i = 0; i < names.size(); ++i)
    line += "  " + names[i] + " " + fmt("%.3f", comm.allreduce_max(seconds[i])) + " / " +
            fmt("%.3f", sum[i] / comm.size());
  // Peak resident set size of this process (Linux: ru_maxrss in KiB).
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
  std::vector<double> rss{mib};
  comm.allreduce_sum(rss);
  line += "\npeak resident memory (MiB; max / mean over ranks): " +
          fmt("%.1f", comm.allreduce_max(mib)) + " / " + fmt("%.1f", rss[0] / comm.size());
  say(comm, line + "\n");
}

CollectiveOutput::CollectiveOutput(const dist::Comm& comm, const std::string& path) {
  dist::run_collectively(comm, [&] {
    if (comm.is_root()) {
      dir.emplace(path);
      staged = dir->staged("");
    }
  });
  comm.broadcast(staged);
}

void CollectiveOutput::commit(const dist::Comm& comm,
                              const std::vector<std::pair<std::string, std::string>>& files) {
  dist::run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    for (const auto& [name, text] : files) dir->write_text(name, text);
    dir->commit();
  });
}

}  // namespace scorematch::app
