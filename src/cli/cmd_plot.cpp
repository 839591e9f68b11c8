// scorematch plot: training curves from a metrics.jsonl written by fit (loss and validation loss vs
// step; learning rate and gradient norm), rendered with gnuplot. The PNG is drawn in a temporary
// directory next to the target and renamed into place.
#include "app/plot.hpp"
#include "command.hpp"

namespace scorematch::cli {

Command add_plot(CLI::App& root) {
  auto o = std::make_shared<app::PlotJob>();
  CLI::App* app = root.add_subcommand(
      "plot", "Training curves from a metrics.jsonl, or sampler traces and autocorrelations (PNG)");
  app->footer("Example: build/scorematch plot --metrics out/mlp/metrics.jsonl --out curves.png");
  auto* metrics = app->add_option("--metrics", o->metrics, "metrics.jsonl written by fit");
  auto* samples = app->add_option(
      "--samples", o->samples, "Or samples.npy written by sample: trace and autocorrelation plots");
  metrics->excludes(samples);
  app->add_option("--chains", o->chains, "samples: number of chains (chain-major rows)")
      ->check(at_least(1));
  app->add_option("--dims", o->dims, "samples: dimensions to plot (0-based)")->check(at_least(0));
  app->add_option("--max-lag", o->max_lag, "samples: largest autocorrelation lag")
      ->check(at_least(1));
  app->add_option("--out", o->out, "PNG file to write")->required();
  app->add_option("--title", o->title, "Picture title (default: the metrics file)");
  auto* size_opt = app->add_option(
      "--size", o->size, "Width and height in pixels (traces: default 260 per dimension)");
  size_opt->expected(2);
  auto run = [o, size_opt](const dist::Comm& comm) {
    o->size_given = size_opt->count() > 0;
    app::run_plot(comm, *o);
  };
  return {app, run, /*file_output=*/true};
}

}  // namespace scorematch::cli
