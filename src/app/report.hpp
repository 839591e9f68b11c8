// What every driver shares for talking to the user and writing its output directory: rank-0
// printing, number formatting, the timings line and the collectively staged output directory.
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "scorematch/dist/comm.hpp"
#include "scorematch/io/output_dir.hpp"

namespace scorematch::app {

// Prints only on rank 0 (stdout).
void say(const dist::Comm& comm, const std::string& text);
// printf-style formatting of one number.
std::string fmt(const char* format, double value);
// s padded with spaces to at least `width` characters (table columns).
std::string pad(std::string s, std::size_t width);
double seconds_since(std::chrono::steady_clock::time_point t0);
// "timings (seconds; max / mean over ranks): name max / mean ..." on rank 0 (collective).
void print_timings(const dist::Comm& comm, const std::vector<std::string>& names,
                   const std::vector<double>& seconds);

// An output directory written by all ranks: rank 0 creates the staging directory (checked
// collectively), every rank learns its path; rank 0 writes small files and commits.
struct CollectiveOutput {
  CollectiveOutput(const dist::Comm& comm, const std::string& path);
  std::optional<io::OutputDir> dir;  // rank 0 only
  std::string staged;                // "<staging dir>/" on every rank
  // Writes text files (rank 0) and commits, collectively.
  void commit(const dist::Comm& comm,
              const std::vector<std::pair<std::string, std::string>>& files);
};

}  // namespace scorematch::app
