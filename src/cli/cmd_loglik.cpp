// scorematch loglik: log-likelihood of data under the probability-flow ODE of a time-conditioned
// score (see sampling/flow_likelihood.hpp), rows sharded over ranks. With an analytic target the
// exact log-density is reported next to it.
#include <cmath>
#include <optional>

#include "command.hpp"
#include "data_shard.hpp"
#include "score_source.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/dist/collective_write.hpp"
#include "scorematch/io/output_dir.hpp"
#include "scorematch/sampling/flow_likelihood.hpp"

namespace scorematch::cli {

namespace {
struct LoglikOptions {
  std::string model, target, data, out;
  double beta_min = 0.1, beta_max = 20.0;
  FlowLikelihoodSettings s;
};
}  // namespace

Command add_loglik(CLI::App& root) {
  auto o = std::make_shared<LoglikOptions>();
  CLI::App* app =
      root.add_subcommand("loglik", "Log-likelihood of data under the probability-flow ODE");
  app->footer(
      "Needs a time-conditioned model (fit --objective dsm --noise vpsde) or a gaussian/gmm\n"
      "target. Writes loglik.npy, loglik_se.npy (Hutchinson probes) and metrics.json.");
  auto* model_opt = app->add_option("--model", o->model, "Time-conditioned model directory");
  auto* target_opt =
      app->add_option("--target", o->target, "Or an analytic target: gaussian | gmm");
  model_opt->excludes(target_opt);
  app->add_option("--data", o->data, "Data file (.csv or .npy)")->required();
  app->add_option("--out", o->out, "Output directory")->required();
  app->add_option("--steps", o->s.steps, "Heun steps from t_eps to 1");
  app->add_option("--t-eps", o->s.t_eps, "Start time of the ODE");
  app->add_option("--probes", o->s.probes,
                  "Hutchinson probes per row (0: exact divergence by jets; use for large d)");
  app->add_option("--seed", o->s.seed, "Seed of the probes");
  app->add_option("--beta-min", o->beta_min, "Target only: beta(0)");
  app->add_option("--beta-max", o->beta_max, "Target only: beta(1)");
  auto run = [o](const dist::Comm& comm) {
    const Shard shard = read_shard(comm, o->data);
    LoadedScore src;
    dist::run_collectively(comm, [&] {
      src = load_score_source(o->model, o->target, shard.info.cols(), NoiseScheme::vpsde,
                              VpSde{o->beta_min, o->beta_max});
      if (!src.noised || src.noised->scheme() != NoiseScheme::vpsde)
        throw Error(
            "loglik needs the scores of the VP-SDE marginals: a time-conditioned model "
            "(fit --objective dsm --noise vpsde) or a gaussian/gmm target");
    });
    FlowLikelihood ll;
    Vector exact;
    dist::run_collectively(comm, [&] {
      ll = flow_log_likelihood(*src.noised, shard.rows, shard.range.begin, o->s);
      if (!ll.log_density.allFinite())
        throw Error("the log-likelihood is NaN or Inf for some rows");
      if (!o->target.empty()) exact = -src.model->energy(shard.rows);
    });
    std::vector<double> sums{static_cast<double>(shard.rows.rows()),
                             ll.log_density.sum(),
                             ll.log_density.squaredNorm(),
                             ll.standard_error.squaredNorm(),
                             exact.size() > 0 ? (ll.log_density - exact).sum() : 0.0,
                             exact.size() > 0 ? (ll.log_density - exact).cwiseAbs().sum() : 0.0};
    comm.allreduce_sum(sums);
    const double n = sums[0], mean = sums[1] / n;
    const double se = n > 1 ? std::sqrt(std::max(0.0, sums[2] / n - mean * mean) / (n - 1)) : 0.0;
    const double probe_se = std::sqrt(sums[3]) / n;  // SE of the mean from the probes alone
    nlohmann::json metrics = {
        {"data", o->data},
        {"rows", static_cast<Index>(n)},
        {"source", src.description},
        {"steps", o->s.steps},
        {"t_eps", o->s.t_eps},
        {"probes", o->s.probes},
        {"divergence", o->s.probes == 0 ? "exact" : "hutchinson (rademacher)"},
        {"mean_loglik", mean},
        {"mean_loglik_se_over_rows", se},
        {"mean_loglik_se_from_probes", probe_se}};
    if (!o->target.empty()) {
      metrics["exact_mean_loglik"] = mean - sums[4] / n;
      metrics["mean_error_vs_exact"] = sums[4] / n;
      metrics["mean_abs_error_vs_exact"] = sums[5] / n;
    }
    CollectiveOutput output(comm, o->out);
    dist::write_npy_collective(comm, output.staged + "loglik.npy", ll.log_density, true);
    dist::write_npy_collective(comm, output.staged + "loglik_se.npy", ll.standard_error, true);
    output.commit(comm, {{"metrics.json", metrics.dump(2) + "\n"}});
    std::string text = "mean log-likelihood over " + std::to_string(static_cast<Index>(n)) +
                       " rows: " + fmt("%.6f", mean) + " +- " + fmt("%.2g", se) +
                       (o->s.probes > 0 ? " (probe SE " + fmt("%.2g", probe_se) + ")" : "") + "\n";
    if (!o->target.empty())
      text += "exact: " + fmt("%.6f", mean - sums[4] / n) + "  (mean |error| per row " +
              fmt("%.2g", sums[5] / n) + ")\n";
    say(comm, text + "wrote " + o->out + "/ (loglik.npy, loglik_se.npy, metrics.json)\n");
  };
  return {app, run};
}

}  // namespace scorematch::cli
