#include <cstdio>
#include <filesystem>
#include <iostream>

#include "command.hpp"
#include "scorematch/core/error.hpp"

namespace scorematch::cli {

OutputClaim claim_outputs(const dist::Comm& comm, const Command& command) {
  namespace fs = std::filesystem;
  OutputClaim claim;
  dist::run_collectively(comm, [&] {
    std::vector<std::pair<std::string, std::string>> outputs, inputs;  // (option, path)
    // The job file is an input too (main takes --config before the subcommand).
    if (const CLI::App* root = command.app->get_parent(); root != nullptr)
      if (const CLI::Option* config = root->get_option_no_throw("--config");
          config != nullptr && config->count() > 0)
        for (const std::string& value : config->results())
          if (std::error_code ec; !value.empty() && fs::exists(value, ec))
            inputs.emplace_back("--config", value);
    for (const CLI::Option* opt : command.app->get_options()) {
      if (opt->count() == 0 || opt->get_expected_min() == 0) continue;  // flags
      const std::string name = opt->get_name(false, true);
      for (const std::string& value : opt->results()) {
        if (name == "--out" || name == "--checkpoint-dir")
          outputs.emplace_back(name, value);
        else if (std::error_code ec; !value.empty() && fs::exists(value, ec))
          inputs.emplace_back(name, value);
      }
    }
    // Commands that checkpoint (fit, sample) write <out>.ckpt unless --checkpoint-dir says where.
    const CLI::Option* ck_opt = command.app->get_option_no_throw("--checkpoint-dir");
    if (ck_opt != nullptr && ck_opt->count() == 0)
      for (const auto& [name, out] : std::vector(outputs))
        if (name == "--out") {
          std::string base = out;
          while (base.size() > 1 && base.back() == '/') base.pop_back();
          outputs.emplace_back("checkpoint directory", base + ".ckpt");
        }
    for (std::size_t a = 0; a < outputs.size(); ++a)
      for (std::size_t b = a + 1; b < outputs.size(); ++b) {
        const std::string pa = io::normalised_path(outputs[a].second),
                          pb = io::normalised_path(outputs[b].second);
        if (io::path_within(pa, pb) || io::path_within(pb, pa))
          throw Error(outputs[a].first + " '" + outputs[a].second + "' and " + outputs[b].first +
                      " '" + outputs[b].second +
                      "' overlap: the output directory is replaced as a whole, so they must be "
                      "separate");
      }
    for (const auto& [out_name, out] : outputs) {
      const std::string target = io::normalised_path(out);
      for (const auto& [in_name, in] : inputs) {
        const std::string source = io::normalised_path(in);
        // --resume of <out>.ckpt into --checkpoint-dir <out>.ckpt is continuing, not overwriting.
        if (out_name != "--out" && in_name == "--resume") continue;
        if (io::path_within(source, target))
          throw Error(out_name + " '" + out + "' would overwrite " + in_name + " '" + in +
                      "' (an input of this run): choose another " + out_name);
      }
      if (out_name == "--out" && !command.file_output) io::check_replaceable(out);
      if (out_name != "--out") {
        io::check_checkpoint_dir(out);
        continue;  // covered by the lock on --out (the same run writes both)
      }
      if (comm.is_root()) claim.locks.push_back(std::make_unique<io::OutputLock>(out, out_name));
    }
  });
  return claim;
}

}  // namespace scorematch::cli
