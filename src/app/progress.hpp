// One status line on stderr (rank 0): redrawn in place on a terminal, a plain line every
// `every` steps otherwise (logs, SLURM output files).
#pragma once
#include <unistd.h>

#include <cstdio>
#include <string>

namespace scorematch::app {

class Progress {
 public:
  Progress(bool enabled, long every) : enabled_(enabled), tty_(isatty(2) != 0), every_(every) {}
  void update(long step, long total, const std::string& text) {
    if (!enabled_) return;
    if (tty_) {
      std::fprintf(stderr, "\r%-100s", text.c_str());
      drawn_ = true;
    } else if (step % every_ == 0 || step == total) {
      std::fprintf(stderr, "%s\n", text.c_str());
    }
    std::fflush(stderr);
  }
  // Ends a redrawn line before other output.
  void finish() {
    if (drawn_) std::fprintf(stderr, "\n");
    drawn_ = false;
  }

 private:
  bool enabled_, tty_;
  long every_;
  bool drawn_ = false;
};

}  // namespace scorematch::app
