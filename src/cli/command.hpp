// How subcommands plug into main: each add_* registers its options on a CLI11 subcommand and
// returns it with the function that runs it once parsing succeeded.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>

#include "scorematch/dist/comm.hpp"

namespace scorematch::cli {

struct Command {
  CLI::App* app;
  std::function<void(const dist::Comm&)> run;
};

// Thrown (on every rank) to end the program early with a given status, e.g. after a preemption
// checkpoint; main returns `code`.
struct ExitRequest {
  int code = 0;
};

Command add_fit(CLI::App& root);
Command add_eval(CLI::App& root);
Command add_gen(CLI::App& root);

// The TOML job-file reader used by --config (see toml_config.cpp).
std::shared_ptr<CLI::Config> make_toml_config();

// Prints only on rank 0 (stdout).
void say(const dist::Comm& comm, const std::string& text);

}  // namespace scorematch::cli
