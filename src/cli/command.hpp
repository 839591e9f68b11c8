// How subcommands plug into main: each add_* registers its options on a CLI11 subcommand and
// returns it with the function that runs it once parsing succeeded.
#pragma once
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <optional>
#include <utility>
#include <vector>

#include "app/output_claim.hpp"
#include "option_values.hpp"
#include "scorematch/dist/comm.hpp"
#include "scorematch/io/output_dir.hpp"
#include "scorematch/io/output_guard.hpp"

namespace scorematch::cli {

struct Command {
  CLI::App* app;
  std::function<void(const dist::Comm&)> run;
  bool file_output = false;  // --out names a file (diag, gen, plot), not a directory
  bool checkpoints = false;  // acts on stop signals with a checkpoint (fit, sample)
};

// Option checks whose messages a user can read (CLI11's PositiveNumber prints the range up to
// DBL_MAX, 309 digits): "--steps: must be >= 1, got 0". That a number is finite is checked for
// every option (option_values.cpp).
inline CLI::Validator bounded_below(double lowest, bool strict) {
  return CLI::Validator(
      [lowest, strict](std::string& text) -> std::string {
        double v = 0;
        // Text that is no number is left to the check every option gets for its type
        // (add_value_checks: "expected an integer in decimal digits", "... a finite number").
        if (!number_problem(text, v).empty()) return std::string();
        char bound[32];
        std::snprintf(bound, sizeof bound, "%g", lowest);
        if (!(strict ? v > lowest : v >= lowest))
          return std::string("must be ") + (strict ? "> " : ">= ") + bound + ", got " + text;
        return std::string();
      },
      "", strict ? "above" : "at_least");
}
// A closed range [lowest, highest] with the same reading (CLI11's Range says "Value 0.99 not in
// range 0.000000 to 0.950000", and judges "2.5" for an integer option before its type check).
inline CLI::Validator within(double lowest, double highest) {
  return CLI::Validator(
      [lowest, highest](std::string& text) -> std::string {
        double v = 0;
        if (!number_problem(text, v).empty()) return std::string();  // the type check's
        char bounds[64];
        std::snprintf(bounds, sizeof bounds, "[%g, %g]", lowest, highest);
        if (!(v >= lowest && v <= highest))
          return std::string("must lie in ") + bounds + ", got " + text;
        return std::string();
      },
      "", "within");
}
// One of a few words, said as the other word options say it ("expected none or edm, got 'foo'";
// CLI11's IsMember says "foo not in {none,edm}"); the help keeps the list.
inline CLI::Validator one_of(std::vector<std::string> words) {
  std::string list, braces;
  for (std::size_t i = 0; i < words.size(); ++i) {
    list += (i == 0 ? "" : i + 1 == words.size() ? " or " : ", ") + words[i];
    braces += (i == 0 ? "{" : ",") + words[i];
  }
  braces += "}";
  return CLI::Validator(
      [words, list](std::string& text) -> std::string {
        for (const std::string& w : words)
          if (text == w) return std::string();
        return "expected " + list + ", got '" + text + "'";
      },
      braces, "one_of");
}
inline CLI::Validator at_least(double lowest) {
  return bounded_below(lowest, false);
}
inline CLI::Validator above(double lowest) {
  return bounded_below(lowest, true);
}

// The command line as main received it (for given_name: flag or job file).
void set_command_line(const std::vector<std::string>& args, const CLI::App* root);
// Whether an option was given: on the command line or in the job file, and for a flag with a
// true value (a job file's `no-denoise = false` leaves the option off).
bool is_given(const CLI::Option* option);
// How the user gave it, for messages: "--warmup", or "--warmup (set in job file 'run.toml')".
std::string given_name(const CLI::Option* option);
// Whether OPTION was typed on the command line (not read from the --config job file).
bool given_on_command_line(const CLI::Option* option);
// The setting namer main installs (core/error.hpp): the flag of a library key, named as given —
// "--ridge (set in job file 'run.toml')" when the job file set it — so that a bad value in a job
// file names the file.
std::string setting_as_given(std::string_view key);

// --model DIR or --target NAME (mutually exclusive): the density a command works on.
inline void add_model_or_target(CLI::App* app, std::string& model, std::string& target,
                                const std::string& model_help, const std::string& target_help) {
  CLI::Option* model_opt = app->add_option("--model", model, model_help);
  model_opt->excludes(app->add_option("--target", target, target_help));
}

// The paths the parsed command's options name, by role, for app::claim_outputs: --out,
// --checkpoint-dir (or <out>.ckpt where the command checkpoints), --resume, and every other
// option's value that names an existing path (and the --config job file) as an input.
app::OutputPlan output_plan(const Command& command);

Command add_fit(CLI::App& root);
Command add_eval(CLI::App& root);
Command add_gen(CLI::App& root);
Command add_sample(CLI::App& root);
Command add_diag(CLI::App& root);
Command add_loglik(CLI::App& root);
Command add_field(CLI::App& root);
Command add_plot(CLI::App& root);
Command add_map(CLI::App& root);
Command add_latent(CLI::App& root);
Command add_logz(CLI::App& root);
Command add_compare(CLI::App& root);

// The TOML job-file reader used by --config (see toml_config.cpp).
std::shared_ptr<CLI::Config> make_toml_config(const CLI::App& root);

}  // namespace scorematch::cli
