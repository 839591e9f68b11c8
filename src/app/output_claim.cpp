#include "output_claim.hpp"

#include "scorematch/core/error.hpp"

namespace scorematch::app {

namespace {
bool overlap(const std::string& a, const std::string& b) {
  const std::string pa = io::normalised_path(a), pb = io::normalised_path(b);
  return io::path_within(pa, pb) || io::path_within(pb, pa);
}

// No output may be, hold, or lie inside an input: writing a file into an input model directory
// (compare --out m/meta.json) would corrupt it as surely as replacing it. The resumed checkpoint
// may lie in the checkpoint dir.
void check_not_overwriting(const NamedPath& output, const OutputPlan& plan, bool is_out) {
  std::vector<NamedPath> inputs = plan.inputs;
  if (plan.resume && is_out) inputs.push_back(*plan.resume);
  const std::string target = io::normalised_path(output.path);
  for (const NamedPath& in : inputs) {
    const std::string input = io::normalised_path(in.path);
    if (io::path_within(input, target))
      throw SettingError(output.name + " '" + output.path + "' would overwrite " + in.name + " '" +
                         in.path + "' (an input of this run): choose another " + output.name);
    if (io::path_within(target, input))
      throw SettingError(output.name + " '" + output.path + "' lies inside " + in.name + " '" +
                         in.path + "' (an input of this run), which it would change: choose " +
                         "another " + output.name);
  }
}
}  // namespace

OutputClaim claim_outputs(const dist::Comm& comm, const OutputPlan& plan) {
  OutputClaim claim;
  dist::run_collectively(comm, [&] {
    if (plan.out && plan.checkpoint_dir && overlap(plan.out->path, plan.checkpoint_dir->path))
      throw SettingError(plan.out->name + " '" + plan.out->path + "' and " +
                         plan.checkpoint_dir->name + " '" + plan.checkpoint_dir->path +
                         "' overlap: the output directory is replaced as a whole, so they must be "
                         "separate");
    if (plan.out) {
      check_not_overwriting(*plan.out, plan, true);
      if (!plan.out_is_file) io::check_replaceable(plan.out->path);
    }
    if (plan.checkpoint_dir) {
      check_not_overwriting(*plan.checkpoint_dir, plan, false);
      io::check_checkpoint_dir(plan.checkpoint_dir->path);
    }
    // The checkpoint directory is covered by the lock on the output (the same run writes both).
    if (plan.out && comm.is_root())
      claim.locks.push_back(std::make_unique<io::OutputLock>(plan.out->path, plan.out->name));
  });
  return claim;
}

}  // namespace scorematch::app
