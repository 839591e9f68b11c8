// scorematch logz: log normalising constant of an energy model by annealed importance sampling
// (estimators/ais.hpp), chains sharded over ranks; exact for normalised models.
#include <algorithm>

#include "app/logz.hpp"
#include "command.hpp"

namespace scorematch::cli {

Command add_logz(CLI::App& root) {
  auto o = std::make_shared<app::LogzJob>();
  CLI::App* app = root.add_subcommand(
      "logz", "Log normalising constant of an energy model (annealed importance sampling)");
  app->footer(
      "log Z = log of the integral of exp(-energy) over data space. Gaussian fits and analytic\n"
      "targets are normalised (log Z = 0, method exact); poly:K and mlp-energy fits go through\n"
      "AIS (Neal 2001) from a Gaussian base: the model's standardisation, or --data's column\n"
      "moments. Writes logz.json (log_z, se, ess, settings) and log_weights.npy; pass it to\n"
      "loglik/compare with --logz.");
  add_model_or_target(app, o->model, o->target, "Energy model directory",
                      "Or an analytic target: gaussian | gmm | banana | rings");
  app->add_option("--out", o->out, "Output directory")->required();
  app->add_option("--method", o->method, "auto | ais | exact (auto: exact where known)");
  CLI::Option* dim = app->add_option("--dim", o->dim, "Dimension of --target")->check(at_least(1));
  app->add_option("--data", o->data,
                  "Place the Gaussian base at this data's column means and standard deviations");
  app->add_option("--base-scale", o->base_scale, "Multiply the base's standard deviations")
      ->check(at_least(1e-300));
  app->add_option("--chains", o->ais.chains, "Independent AIS chains (sharded over ranks)")
      ->check(at_least(1));
  app->add_option("--temps", o->ais.temps, "Temperatures from the base (beta 0) to the model")
      ->check(at_least(1));
  app->add_option("--steps-per-temp", o->ais.steps_per_temp, "MALA moves per temperature")
      ->check(at_least(1));
  app->add_option("--schedule", o->ais.schedule, "Temperature schedule: sigmoid | linear");
  app->add_option("--tune-chains", o->ais.tune_chains,
                  "Separate chains that tune the MALA step per temperature (0: fixed step)")
      ->check(at_least(0));
  app->add_option("--initial-step", o->ais.initial_step,
                  "MALA step at the base (standardised units); tuning starts here");
  app->add_option("--target-accept", o->ais.target_accept, "Acceptance the step tuning aims at");
  app->add_option("--seed", o->ais.seed, "Seed of the chains")->check(at_least(0));
  auto run = [o, app, dim](const dist::Comm& comm) {
    // The AIS settings given, so that a run that never reads one refuses it.
    for (const char* key : {"data", "base_scale", "chains", "temps", "steps_per_temp", "schedule",
                            "tune_chains", "initial_step", "target_accept", "seed"}) {
      std::string flag = std::string("--") + key;
      std::replace(flag.begin(), flag.end(), '_', '-');
      if (const CLI::Option* option = app->get_option(flag); is_given(option))
        o->ais_given.push_back({key, given_name(option), given_on_command_line(option)});
    }
    if (is_given(dim)) o->dim_given = given_name(dim);
    app::run_logz(comm, *o);
  };
  return {app, run};
}

}  // namespace scorematch::cli
