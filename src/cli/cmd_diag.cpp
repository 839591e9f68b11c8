// scorematch diag: convergence diagnostics (split rank-normalised R-hat, bulk/tail ESS, MCSE) of
// sampler output, the kernel Stein discrepancy against a model's score, and energy distance / MMD
// against reference draws. Prints a table and writes a JSON report (atomically).
#include "app/diag.hpp"
#include "command.hpp"

namespace scorematch::cli {

Command add_diag(CLI::App& root) {
  auto o = std::make_shared<app::DiagJob>();
  CLI::App* app = root.add_subcommand("diag", "Convergence diagnostics and KSD of samples");
  app->footer(
      "Samples are (chains x draws) x d, chain-major (as written by sample).\n"
      "Example: build/scorematch diag --samples out/mala/samples.npy --model out/poly4 "
      "--out report.json");
  app->add_option("--samples", o->samples, "Samples file (.npy or .csv)")->required();
  app->add_option("--chains", o->chains, "Number of chains (default: from sampler.json)")
      ->check(at_least(1));
  add_model_or_target(app, o->model, o->target, "Model directory (for the KSD)",
                      "Or an analytic target (for the KSD)");
  app->add_option("--reference", o->reference, "Reference draws: energy distance and MMD");
  app->add_option("--ksd-rows", o->ksd_rows, "Draws used (evenly thinned) for KSD and MMD")
      ->check(at_least(2));
  app->add_option("--superchains", o->superchains,
                  "Nested R-hat over K superchains of consecutive chains (Margossian et al. 2024)")
      ->check(at_least(2));
  CLI::Option* threshold = app->add_option("--nested-threshold", o->nested_threshold,
                                           "Nested R-hat converged below this value (1 + delta)")
                               ->check(at_least(1));
  app->add_flag("--ksd-test", o->ksd_test,
                "KSD goodness-of-fit test: U-statistic and wild-bootstrap p-value (needs the "
                "model; assumes near-independent draws)");
  CLI::Option* bootstrap =
      app->add_option("--bootstrap", o->bootstrap, "--ksd-test: bootstrap replicates")
          ->check(at_least(1));
  CLI::Option* seed =
      app->add_option("--seed", o->seed, "--ksd-test: seed of the bootstrap multipliers")
          ->check(at_least(0));
  app->add_option("--out", o->out, "Report file (JSON)")->required();
  auto run = [o, bootstrap, seed, threshold](const dist::Comm& comm) {
    if (is_given(threshold)) o->nested_options_given.push_back(given_name(threshold));
    for (const CLI::Option* option : {bootstrap, seed})
      if (is_given(option)) o->test_options_given.push_back(given_name(option));
    app::run_diag(comm, *o);
  };
  return {app, run, /*file_output=*/true};
}

}  // namespace scorematch::cli
