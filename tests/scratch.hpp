// A scratch directory of this test process, for tests that write files.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace scorematch::testing {

// temp/scorematch_tests_<pid>: created on first use, removed when the process exits. Per process
// because ctest -j runs every gtest case as a process of its own, so two cases of one suite (or
// two checkouts on one machine) run at once: a shared directory let one case's file be
// overwritten or removed under another.
inline const std::filesystem::path& scratch_dir() {
  struct Dir {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("scorematch_tests_" + std::to_string(::getpid()));
    Dir() { std::filesystem::create_directories(path); }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir;
  return dir.path;
}

}  // namespace scorematch::testing
