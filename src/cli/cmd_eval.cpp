// scorematch eval: a model's score, energy and score divergence on data, plus the ISM objective
//   J = mean_i [ ∇·s(x_i) + ½‖s(x_i)‖² ]   (Hyvärinen 2005; equals the Fisher divergence up to a
// data-only constant) with its Monte-Carlo standard error. Rows are sharded over ranks; the output
// arrays are written collectively (each rank its own rows).
#include "app/eval.hpp"
#include "command.hpp"

namespace scorematch::cli {

Command add_eval(CLI::App& root) {
  auto o = std::make_shared<app::EvalJob>();
  CLI::App* app =
      root.add_subcommand("eval", "Evaluate a model's score, energy and divergence on data");
  app->footer(
      "Writes score.npy (n x d), energy.npy (n; -log p up to a constant), laplacian.npy (n; the\n"
      "divergence of the score, = Laplacian of log p) and metrics.json (ISM objective).\n"
      "Example: build/scorematch eval --model out/poly4 --data data/faithful.csv --out out/eval");
  add_model_or_target(app, o->model, o->target, "Model directory written by fit",
                      "Or an analytic target: gaussian | gmm | banana | rings");
  app->add_option("--data", o->data, "Data file (.csv or .npy)")->required();
  app->add_option("--out", o->out, "Output directory")->required();
  auto run = [o](const dist::Comm& comm) { app::run_eval(comm, *o); };
  return {app, run};
}

}  // namespace scorematch::cli
