// scorematch field: a model's log-density, energy, score and score divergence on a 2-D grid (or a
// 2-D slice through a point of a higher-dimensional model), written as field.csv and field.json;
// with --profile AXIS the 1-D mode: model vs data potential and gradient along one axis.
// The grid is small (10⁴–10⁶ points), so rank 0 evaluates it; the other ranks only agree on errors.
#include "app/field.hpp"
#include "command.hpp"

namespace scorematch::cli {

Command add_field(CLI::App& root) {
  auto o = std::make_shared<app::FieldJob>();
  CLI::App* app =
      root.add_subcommand("field", "Density, score and divergence of a model on a 2-D grid");
  app->footer(
      "Writes field.csv (x, y, energy, log_density, score_x, score_y, divergence; x fastest) and\n"
      "field.json. log_density is normalised numerically on the grid (for d > 2: the slice).\n"
      "Example: build/scorematch field --model out/faithful-poly4 --data data/faithful.csv "
      "--out out/field");
  add_model_or_target(app, o->model, o->target, "Model directory written by fit",
                      "Or an analytic target");
  app->add_option("--dim", o->dim, "Dimension of --target")->check(at_least(1));
  app->add_option("--data", o->data, "Data: sets the default range (bounds + 10%) and slice point");
  app->add_option("--axes", o->axes, "The two plotted coordinates (0-based)")
      ->expected(2)
      ->check(at_least(0));
  app->add_option("--range", o->range, "x_min x_max y_min y_max (1-D mode: t_min t_max)")
      ->expected(2, 4);
  app->add_option("--profile", o->profile,
                  "1-D mode: model vs data potential and gradient along this axis (0-based)")
      ->check(at_least(0));
  app->add_option("--through", o->through, "Slice point (d values; default: data mean or 0)");
  app->add_option("--grid", o->grid, "Points per axis (2 to 4000)")->check(within(2, 4000));
  app->add_flag("--png", o->png, "Also render field.png with gnuplot (heat map, arrows, data)");
  app->add_option("--png-size", o->png_size, "Picture width and height in pixels")->expected(2);
  app->add_option("--title", o->title, "Picture title (default: the model)");
  app->add_option("--out", o->out, "Output directory")->required();
  auto run = [o](const dist::Comm& comm) { app::run_field(comm, *o); };
  return {app, run};
}

}  // namespace scorematch::cli
