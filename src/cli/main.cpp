// scorematch: score matching and Langevin sampling from the command line, under mpirun or alone.
// main sets up MPI and the thread count, parses the subcommand (flags override --config TOML), runs
// it, and maps failures to exit codes: 0 ok, 1 error (message printed once), 2 usage errors (a
// bad option, job file or setting value: CLI11's parse errors and SettingError), on every rank.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/run_control.hpp"
#include "command.hpp"
#include "option_values.hpp"
#include "scorematch/core/allocator_tuning.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"
#include "scorematch/dist/comm.hpp"
#include "setting_names.hpp"

namespace {

// CLI11 reads config files only on the main app; accept "scorematch fit --config job.toml" by
// moving the --config pair in front of the subcommand.
std::vector<std::string> hoist_config(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc), config, rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      config = {args[i], args[i + 1]};
      ++i;
    } else if (args[i].rfind("--config=", 0) == 0) {
      config = {args[i]};
    } else {
      rest.push_back(args[i]);
    }
  }
  config.insert(config.end(), rest.begin(), rest.end());
  return config;
}

// Edit distance (insertions, deletions, substitutions) for "did you mean" suggestions.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t next =
          std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = row[j];
      row[j] = next;
    }
  }
  return row[b.size()];
}

// The first word that is neither an option nor an option's value, if it names no subcommand:
// "unknown subcommand 'smaple'; did you mean 'sample'?" (CLI11 would only say that one is
// required).
std::string unknown_subcommand(const CLI::App& app, const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--threads" || word == "--config") {
      ++i;  // skip the option's value
      continue;
    }
    if (word.empty() || word[0] == '-') continue;
    std::string best;
    std::size_t best_distance = std::string::npos;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      if (sub->get_name() == word) return {};
      const std::size_t d = edit_distance(word, sub->get_name());
      if (d < best_distance) best_distance = d, best = sub->get_name();
    }
    std::string message = "unknown subcommand '" + word + "'";
    if (best_distance <= std::max<std::size_t>(2, word.size() / 3))
      message += "; did you mean '" + best + "'?";
    return message + " (scorematch --help lists the subcommands)";
  }
  return {};
}

// CLI11 names an option whose value a validator refused ("--chains: must be >= 1, got 0"); a value
// set in the job file is named with its file, as the library's value errors are (given_name).
std::string value_error_as_given(const std::string& what, const CLI::App& root,
                                 const std::vector<scorematch::cli::Command>& commands) {
  if (what.rfind("--", 0) != 0) return what;
  const std::size_t end = what.find(':');
  if (end == std::string::npos) return what;
  const std::string flag = what.substr(0, end);
  for (const auto& command : commands) {
    if (!command.app->parsed()) continue;
    if (const CLI::Option* option = command.app->get_option_no_throw(flag);
        option != nullptr && option->count() > 0)
      return scorematch::cli::given_name(option) + what.substr(end);
  }
  // The program's own options (--threads), which a job file may set at its top level.
  if (const CLI::Option* option = root.get_option_no_throw(flag);
      option != nullptr && option->count() > 0)
    return scorematch::cli::given_name(option) + what.substr(end);
  return what;
}

// A parse failure's message and exit status: a job-file error names the file and the key, a
// usage error is one line naming the command to ask for help; --help and --version print.
int report_parse_error(CLI::App& app, const std::vector<scorematch::cli::Command>& commands,
                       const CLI::ParseError& e) {
  if (dynamic_cast<const CLI::ConfigError*>(&e) != nullptr) {
    // CLI11 reports an unknown key as "INI was not able to parse fit.bogus".
    std::string what = e.what();
    const std::string unknown = "INI was not able to parse ";
    if (what.rfind(unknown, 0) == 0)
      what = "unknown key '" + what.substr(unknown.size()) +
             "' (keys are the long option names "
             "of the subcommand, in its [table]; see scorematch <subcommand> --help)";
    std::cerr << "scorematch: error: config '" << app.get_option("--config")->as<std::string>()
              << "': " << what << "\n";
    return 2;
  }
  if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
  std::string what = e.what();
  // CLI11's "Could not convert: --threads = 99999999999": the value passed the option's checks
  // (add_value_checks: a decimal integer in 64 bits) but does not fit the option's own type.
  const std::string unconverted = "Could not convert: ";
  if (const std::size_t eq = what.find(" = ");
      what.rfind(unconverted, 0) == 0 && eq != std::string::npos)
    what = what.substr(unconverted.size(), eq - unconverted.size()) + ": '" + what.substr(eq + 3) +
           "' is out of range for this option";
  what = value_error_as_given(what, app, commands);
  for (char& c : what)
    if (c == '\n') c = ' ';
  std::string help = "scorematch --help";
  for (const auto& command : commands)
    if (command.app->parsed()) help = "scorematch " + command.app->get_name() + " --help";
  std::cerr << "scorematch: error: " << what << " (see " << help << ")\n";
  return 2;
}

// The program's own options: --threads, --version and the --config job file.
void add_root_options(CLI::App& app, int& threads) {
  app.require_subcommand(1, 1);
  app.set_version_flag("--version", "scorematch 0.1.0");
  app.add_option("--threads", threads, "Threads per rank (default: OMP_NUM_THREADS or all cores)")
      ->check(scorematch::cli::at_least(0));
  // Main-app options (--threads) are also accepted after the subcommand; subcommands inherit this.
  app.fallthrough();
  app.set_config("--config", "",
                 "TOML job file; [fit], [eval], [gen], [sample], [diag], [loglik], [field], [map], "
                 "[latent] tables set that subcommand's options ([fit.objective], "
                 "[fit.optimizer], [sample.sampler] group a component's, name = its choice); "
                 "command-line flags override it");
  app.config_formatter(scorematch::cli::make_toml_config(app));
  app.allow_config_extras(CLI::config_extras_mode::error);
}

// A bad_alloc (or length_error) outside a collective step: end every rank with one clear line.
int out_of_memory(const scorematch::dist::Comm& comm) {
  if (comm.size() > 1) comm.abort(scorematch::out_of_memory_message());
  std::cerr << "scorematch: error: " << scorematch::out_of_memory_message() << "\n";
  return 1;
}

// Runs the parsed command on every rank and maps its end to the exit status.
int run_parsed(const scorematch::dist::Comm& comm,
               const std::vector<scorematch::cli::Command>& commands) {
  using namespace scorematch;
  try {
    for (const auto& command : commands) {
      if (!command.app->parsed()) continue;
      // Only commands that checkpoint act on a stop signal; the others take the default action
      // (a signal that arrived during start-up is delivered now).
      if (!command.checkpoints) app::end_on_stop_signal();
      const app::OutputClaim claim = app::claim_outputs(comm, cli::output_plan(command));
      command.run(comm);
    }
  } catch (const app::ExitRequest& request) {
    return request.code;
  } catch (const dist::CollectiveFailure& failure) {
    return failure.exit_code();
  } catch (const std::bad_alloc&) {
    return out_of_memory(comm);
  } catch (const std::length_error&) {  // a container asked for more than max_size()
    return out_of_memory(comm);
  } catch (const std::exception& e) {
    // Not agreed collectively: other ranks may be waiting in a collective, so end them all.
    if (comm.size() > 1) comm.abort(e.what());
    std::cerr << "scorematch: error: " << e.what() << "\n";
    return dynamic_cast<const SettingError*>(&e) != nullptr ? 2 : 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace scorematch;
  set_setting_namer(cli::setting_as_given);  // library messages name our flags (and job file)
  // First of all: a SIGTERM/SIGUSR1 from a scheduler during start-up, MPI set-up or a --resume load
  // is recorded, never fatal; fit and sample act on it at their first chance (checkpoint or not,
  // exit with --preempt-exit-code), every other command restores the default action below.
  app::install_stop_handlers();
  if (std::getenv("SCOREMATCH_TEST_SIGNAL_AT_START") != nullptr)
    std::raise(SIGUSR1);  // test hook: a scheduler's signal during start-up
  tune_allocator();
  dist::Environment mpi(argc, argv);
  const dist::Comm comm = dist::Comm::world();

  CLI::App app{"scorematch: score matching and Langevin sampling (MPI + threads)", "scorematch"};
  int threads = 0;
  add_root_options(app, threads);
  const std::vector<cli::Command> commands{
      cli::add_fit(app),  cli::add_eval(app),   cli::add_gen(app),   cli::add_sample(app),
      cli::add_diag(app), cli::add_loglik(app), cli::add_field(app), cli::add_plot(app),
      cli::add_map(app),  cli::add_latent(app), cli::add_logz(app),  cli::add_compare(app)};
  cli::add_value_checks(app);

  std::vector<std::string> args = hoist_config(argc, argv);
  cli::set_command_line(args, &app);
  for (const std::string& problem :
       {unknown_subcommand(app, args), cli::non_finite_value_word(app, args),
        cli::repeated_list_option(app, args)})
    if (!problem.empty()) {
      if (comm.is_root()) std::cerr << "scorematch: error: " << problem << "\n";
      return 2;
    }
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments reversed
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    // Every rank ends with the code rank 0 reports (mpirun returns the first rank's to exit).
    return comm.is_root() ? report_parse_error(app, commands, e) : (e.get_exit_code() == 0 ? 0 : 2);
  }

  // Both backends honour OMP_NUM_THREADS (batch scripts set it from SLURM_CPUS_PER_TASK); oneTBB
  // would otherwise take every core of the rank's affinity mask.
  if (threads == 0)
    if (const char* env = std::getenv("OMP_NUM_THREADS"); env != nullptr && std::atoi(env) > 0)
      threads = std::atoi(env);
  parallel::set_num_threads(threads);
  const int status = run_parsed(comm, commands);
  app::end_if_stopped();  // a command without checkpoints that a stop signal ended: its status
  return status;
}
