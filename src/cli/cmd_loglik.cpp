// scorematch loglik: log-likelihood of data under the probability-flow ODE of a time-conditioned
// score (see sampling/flow_likelihood.hpp), rows sharded over ranks. With an analytic target the
// exact log-density is reported next to it.
#include "app/loglik.hpp"
#include "command.hpp"

namespace scorematch::cli {

Command add_loglik(CLI::App& root) {
  auto o = std::make_shared<app::LoglikJob>();
  CLI::App* app =
      root.add_subcommand("loglik", "Log-likelihood of data under the probability-flow ODE");
  app->footer(
      "Needs a time-conditioned model (fit --objective dsm --noise vpsde) or a gaussian/gmm\n"
      "target. Writes loglik.npy, loglik_se.npy (Hutchinson probes) and metrics.json.");
  add_model_or_target(app, o->model, o->target, "Time-conditioned model directory",
                      "Or an analytic target: gaussian | gmm");
  app->add_option("--data", o->data, "Data file (.csv or .npy)")->required();
  app->add_option("--out", o->out, "Output directory")->required();
  app->add_option("--steps", o->s.steps, "Heun steps from t_eps to 1");
  app->add_option("--t-eps", o->s.t_eps, "Start time of the ODE");
  app->add_option("--probes,--projections", o->s.probes,
                  "Hutchinson probes per row (0: exact divergence by jets; use for large d)");
  app->add_option("--seed", o->s.seed, "Seed of the probes");
  app->add_option("--beta-min", o->beta_min, "Target only: beta(0)");
  app->add_option("--beta-max", o->beta_max, "Target only: beta(1)");
  auto run = [o](const dist::Comm& comm) { app::run_loglik(comm, *o); };
  return {app, run};
}

}  // namespace scorematch::cli
