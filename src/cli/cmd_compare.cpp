// scorematch compare: held-out log-likelihood, ISM objective and KSD of several models on the same
// rows, sorted, with paired differences in plain words (app/compare.hpp).
#include "app/compare.hpp"
#include "command.hpp"

namespace scorematch::cli {

Command add_compare(CLI::App& root) {
  auto o = std::make_shared<app::CompareJob>();
  CLI::App* app = root.add_subcommand("compare", "Compare fitted models on held-out data");
  app->footer(
      "Per model: mean log-likelihood per row +- SE (energy models need log Z: logz.json in the\n"
      "model directory, from `scorematch logz` or an NCE fit, or --logz), the ISM objective\n"
      "(Fisher divergence up to a constant; no Z needed) and KSD^2 of the rows under the model.\n"
      "Example: scorematch compare --models fits/gauss,fits/poly4 --data test.csv --out cmp.json");
  app->add_option("--models", o->models, "Model directories, comma-separated")
      ->delimiter(',')
      ->required();
  app->add_option("--data", o->data, "Held-out data (.csv or .npy)")->required();
  app->add_option("--logz", o->logz,
                  "One logz.json per model, comma-separated (auto: the model's own)")
      ->delimiter(',');
  app->add_option("--out", o->out, "Write the table as JSON to this file");
  app->add_option("--ksd-rows", o->ksd_rows, "Rows used for KSD^2 (O(n^2) pairs)")
      ->check(at_least(2));
  app->add_option("--steps", o->flow.steps, "Time-conditioned models: Heun steps of the ODE");
  app->add_option("--probes", o->flow.probes,
                  "Time-conditioned models: Hutchinson probes (0: exact divergence)");
  app->add_option("--seed", o->flow.seed, "Seed of the probes")->check(at_least(0));
  auto run = [o, app](const dist::Comm& comm) {
    for (const char* name : {"--steps", "--probes", "--seed"})
      if (const CLI::Option* option = app->get_option(name); is_given(option))
        o->flow_options_given.push_back(given_name(option));
    app::run_compare(comm, *o);
  };
  return {app, run, /*file_output=*/true};
}

}  // namespace scorematch::cli
