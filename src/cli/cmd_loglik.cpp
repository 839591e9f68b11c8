// scorematch loglik: per-row log-likelihood of data under any model kind (app/loglik.hpp).
#include "app/loglik.hpp"
#include "command.hpp"

namespace scorematch::cli {

Command add_loglik(CLI::App& root) {
  auto o = std::make_shared<app::LoglikJob>();
  CLI::App* app = root.add_subcommand("loglik", "Per-row log-likelihood of data under a model");
  app->footer(
      "Energy models: log p = -energy - log Z, with log Z from `scorematch logz` (--logz, or\n"
      "logz.json in the model directory; gaussian fits are exact). Time-conditioned models\n"
      "(fit --objective dsm --noise vpsde) and gaussian/gmm targets: the probability-flow ODE.\n"
      "Writes loglik.npy, loglik_se.npy (Hutchinson probes) and metrics.json.");
  add_model_or_target(app, o->model, o->target, "Model directory",
                      "Or an analytic target: gaussian | gmm (flow ODE) | banana | rings");
  app->add_option("--logz", o->logz, "logz.json (or its directory) of an energy model");
  app->add_option("--data", o->data, "Data file (.csv or .npy)")->required();
  app->add_option("--out", o->out, "Output directory")->required();
  app->add_option("--steps", o->s.steps, "Heun steps from t_eps to 1");
  app->add_option("--t-eps", o->s.t_eps, "Start time of the ODE")->check(above(0));
  app->add_option("--probes,--projections", o->s.probes,
                  "Hutchinson probes per row (0: exact divergence by jets; use for large d)");
  app->add_option("--seed", o->s.seed, "Seed of the probes")->check(at_least(0));
  app->add_option("--beta-min", o->beta_min, "Target only: beta(0)")->check(above(0));
  app->add_option("--beta-max", o->beta_max, "Target only: beta(1)")->check(above(0));
  auto run = [o, app](const dist::Comm& comm) {
    for (const char* name :
         {"--steps", "--t-eps", "--probes", "--seed", "--beta-min", "--beta-max"})
      if (const CLI::Option* option = app->get_option(name); is_given(option))
        o->flow_options_given.push_back(given_name(option));
    app::run_loglik(comm, *o);
  };
  return {app, run};
}

}  // namespace scorematch::cli
