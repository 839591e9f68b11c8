// scorematch map: MAP estimates of x from y = A x + ε, ε ~ N(0, σ_y² I), one observation per row of
// --obs, under a score prior (a fitted model or an analytic target). Learned priors: Adam ascent on
// log p(x | y) (posterior score s(x) + Aᵀ(y − A x)/σ_y²); a Gaussian prior: the exact posterior
// mean
// (= MAP). Rows are sharded over ranks; x_map.npy is written collectively.
#include <algorithm>

#include "app/map.hpp"
#include "command.hpp"
#include "inverse_options.hpp"

namespace scorematch::cli {

Command add_map(CLI::App& root) {
  auto o = std::make_shared<app::MapJob>();
  CLI::App* app = root.add_subcommand(
      "map", "MAP estimates for y = A x + noise under a score prior (inverse problems)");
  app->footer(
      "Writes x_map.npy (one row per observation) and map.json.\n"
      "Example: build/scorematch map --model out/prior --obs y.npy --operator mask --mask m.npy\n"
      "  --sigma-y 0.2 --out out/map");
  add_model_or_target(app, o->model, o->target, "Prior: model directory written by fit",
                      "Or an analytic target (gen names)");
  app->add_option("--dim", o->dim, "Dimension of --target (default: the observations' width)")
      ->check(at_least(1));
  add_inverse_options(app, o->inv, "Observation model");
  app->get_option("--obs")->required();
  app->get_option("--sigma-y")->required();
  app->add_option(
      "--method", o->method,
      "auto (exact for a Gaussian prior, else adam) | adam | lbfgs (energy priors) | exact | "
      "tweedie "
      "(denoising posterior mean y + sigma_y^2 s(y; sigma_y), sigma-conditioned or Gaussian "
      "prior)");
  app->add_option("--init", o->init,
                  "adam/lbfgs start: adjoint (A^T y) | zero | file (--init-file)");
  app->add_option("--init-file", o->init_file,
                  "--init file: one starting point per observation row (e.g. another "
                  "estimate's x_map.npy or posterior_mean.npy)");
  app->add_option("--steps", o->adam.steps, "adam: steps; lbfgs: maximum iterations")
      ->check(at_least(1));
  app->add_option("--lr", o->adam.lr, "adam: peak step size (cosine decay)")->check(above(0));
  app->add_option("--prior-level", o->prior_level,
                  "sigma-conditioned prior: noise level of the score used (model units; default "
                  "the model's own, e.g. its smallest sigma)")
      ->check(above(0));
  app->add_option("--anneal-from", o->anneal_from,
                  "adam, sigma-conditioned prior: MAP by continuation over geometric levels from "
                  "this sigma down to the prior's level (model units)")
      ->check(above(0));
  app->add_option("--anneal-stages", o->anneal_stages,
                  "stages of --anneal-from (the Adam steps are split evenly)")
      ->check(at_least(2));
  app->add_option("--out", o->out, "Output directory")->required();
  auto run = [o, app](const dist::Comm& comm) {
    // The method-specific settings given, so that the method refuses those it does not read.
    for (const char* key :
         {"init", "init_file", "steps", "lr", "prior_level", "anneal_from", "anneal_stages"}) {
      std::string flag = std::string("--") + key;
      std::replace(flag.begin(), flag.end(), '_', '-');
      if (const CLI::Option* option = app->get_option(flag); is_given(option))
        o->given.push_back({key, given_name(option), given_on_command_line(option)});
    }
    app::run_map(comm, *o);
  };
  return {app, run};
}

}  // namespace scorematch::cli
