// scorematch fit: closed-form score matching of exponential families, distributed.
// Each rank reads only its rows, accumulates sufficient statistics with threads, and one
// MPI_Allreduce per statistic makes them global; every rank then solves the same small system and
// rank 0 writes the model directory.
#include "app/fit.hpp"
#include "command.hpp"
#include "neural_options.hpp"

namespace scorematch::cli {

Command add_fit(CLI::App& root) {
  auto o = std::make_shared<app::FitJob>();
  CLI::App* app = root.add_subcommand("fit", "Fit a density model to data by score matching");
  app->footer(
      "Closed-form families: gaussian (score matching = MLE: mean.npy, precision.npy) and poly:K\n"
      "(all monomials of degree 1..K, theta = -A^-1 b in standardised coordinates). Standard\n"
      "errors by the sandwich estimator are written as *_se.npy.\n"
      "Example: mpirun -np 2 build/scorematch fit --data data/faithful.csv --model poly:4 --out "
      "out/poly4");
  app->add_option("--data", o->data, "Data file (.csv with header, or 2-D .npy)")->required();
  app->add_option("--model", o->model, "Model: gaussian | poly:K | mlp-energy | mlp-score")
      ->capture_default_str();
  app->add_option("--out", o->out, "Output model directory")->required();
  CLI::Option* ridge =
      app->add_option("--ridge", o->ridge,
                      "Ridge penalty lambda >= 0 (gaussian: P = (S + lambda I)^-1)")
          ->capture_default_str();
  CLI::Option* se = app->add_option("--se", o->se, "Sandwich standard errors: auto | on | off")
                        ->check(one_of({"auto", "on", "off"}))
                        ->capture_default_str();
  app->add_option("--dim", o->dim, "Expected number of data columns (checked against the data)")
      ->check(at_least(1));
  app->add_flag("--standardize,!--no-standardize", o->standardize,
                "poly:K and mlp-*: fit in standardised coordinates (default on)");
  add_neural_options(app, o->neural);
  auto run = [o, app, ridge, se](const dist::Comm& comm) {
    o->neural.given = given_neural_settings(app);
    for (const CLI::Option* option : {ridge, se})
      if (is_given(option)) o->closed_form_given.push_back(given_name(option));
    app::run_fit(comm, *o);
  };
  return {app, run, /*file_output=*/false, /*checkpoints=*/true};
}

}  // namespace scorematch::cli
