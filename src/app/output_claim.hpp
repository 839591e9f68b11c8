// Claiming a command's outputs before any work (collective): no output may be, or hold, an input
// of the run; outputs may not overlap; an existing output directory must hold only files
// scorematch wrote (io::check_replaceable); a checkpoint directory only checkpoint files; and rank
// 0 locks "<out>.lock" for the whole run, so a second run with the same output is refused naming
// the holder. Every path carries the name the user gave it (an option, "checkpoint directory"),
// which the errors quote.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scorematch/dist/comm.hpp"
#include "scorematch/io/output_guard.hpp"

namespace scorematch::app {

struct NamedPath {
  std::string name;  // how the user named it, e.g. "--out"
  std::string path;
};

struct OutputPlan {
  std::optional<NamedPath> out;             // the command's output (locked)
  bool out_is_file = false;                 // diag, gen, plot write one file, not a directory
  std::optional<NamedPath> checkpoint_dir;  // explicit, or <out>.ckpt of fit/sample
  std::vector<NamedPath> inputs;            // existing paths the command reads (job file too)
  // The checkpoint a run resumes from: an input that may lie inside its checkpoint directory
  // (continuing into the same directory is not overwriting).
  std::optional<NamedPath> resume;
};

struct OutputClaim {
  std::vector<std::unique_ptr<io::OutputLock>> locks;  // rank 0 only
};

OutputClaim claim_outputs(const dist::Comm& comm, const OutputPlan& plan);

}  // namespace scorematch::app
