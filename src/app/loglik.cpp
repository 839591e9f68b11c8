#include "loglik.hpp"

#include "report.hpp"

namespace scorematch::app {

void run_loglik(const dist::Comm& comm, LoglikJob& job) {
  LoglikJob* const o = &job;
  const Shard shard = read_block_shard(comm, o->data);
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
    // Block by block (64 global rows), so each row's value is the same on any number of ranks.
    const Index local = shard.rows.rows();
    ll.log_density.resize(local);
    ll.standard_error.resize(local);
    for_each_block(shard.range, [&](RowRange block, Index offset) {
      const FlowLikelihood part = flow_log_likelihood(
          *src.noised, shard.rows.middleRows(offset, block.size()), block.begin, o->s);
      ll.log_density.segment(offset, block.size()) = part.log_density;
      ll.standard_error.segment(offset, block.size()) = part.standard_error;
    });
    for (Index i = 0; i < local; ++i)
      if (!std::isfinite(ll.log_density[i]))
        throw Error("the log-likelihood overflows (is not finite) at row " +
                    std::to_string(shard.range.begin + i + 1) + " of '" + o->data + "'");
    if (!o->target.empty()) exact = -src.model->energy(shard.rows);
  });
  // Exact (decomposition-free) reductions: mean and centred spread of the values, the sum of
  // the squared probe SEs and the errors against the exact values.
  const double n = static_cast<double>(shard.info.rows);
  const dist::ColumnStats stats =
      dist::column_stats(comm, Matrix(ll.log_density), shard.info.rows, {"loglik"}, o->data);
  const double mean = stats.mean[0];
  const double se = n > 1 ? stats.sd[0] / std::sqrt(n - 1) : std::nan("");  // s/√n
  const bool probes_defined = o->s.probes != 1;
  Matrix extra(shard.rows.rows(), 3);
  extra.col(0) =
      probes_defined ? Vector(ll.standard_error.cwiseAbs2()) : Vector(Vector::Zero(extra.rows()));
  extra.col(1) = exact.size() > 0 ? Vector(ll.log_density - exact) : Vector::Zero(extra.rows());
  extra.col(2) = extra.col(1).cwiseAbs();
  const std::vector<double> sums = dist::exact_column_sums(comm, extra);
  // SE of the mean from the probes alone; undefined with one probe per row.
  const double probe_se = probes_defined ? std::sqrt(sums[0]) / n : std::nan("");
  auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); };
  nlohmann::json metrics = {{"data", o->data},
                            {"rows", static_cast<Index>(n)},
                            {"source", src.description},
                            {"steps", o->s.steps},
                            {"t_eps", o->s.t_eps},
                            {"probes", o->s.probes},
                            {"divergence", o->s.probes == 0 ? "exact" : "hutchinson (rademacher)"},
                            {"mean_loglik", mean},
                            {"mean_loglik_se_over_rows", number(se)},
                            {"mean_loglik_se_from_probes", number(probe_se)}};
  nlohmann::json undefined = nlohmann::json::object();
  if (!std::isfinite(se)) undefined["mean_loglik_se_over_rows"] = "one row: no spread to estimate";
  if (!probes_defined)
    undefined["mean_loglik_se_from_probes"] =
        "one probe per row cannot estimate its spread (use --probes 0 for the exact divergence, "
        "or --probes >= 2)";
  if (!undefined.empty()) metrics["undefined"] = undefined;
  if (!o->target.empty()) {
    metrics["exact_mean_loglik"] = mean - sums[1] / n;
    metrics["mean_error_vs_exact"] = sums[1] / n;
    metrics["mean_abs_error_vs_exact"] = sums[2] / n;
  }
  CollectiveOutput output(comm, o->out);
  dist::write_npy_collective(comm, output.staged + "loglik.npy", ll.log_density, true);
  if (probes_defined)  // per-row SEs exist (0 for the exact divergence); never NaN in a file
    dist::write_npy_collective(comm, output.staged + "loglik_se.npy", ll.standard_error, true);
  output.commit(comm, {{"metrics.json", metrics.dump(2) + "\n"}});
  std::string text = "mean log-likelihood over " + std::to_string(static_cast<Index>(n)) +
                     " rows: " + fmt("%.6f", mean) +
                     (std::isfinite(se) ? " +- " + fmt("%.2g", se) : " (SE undefined: one row)") +
                     (o->s.probes > 1    ? " (probe SE " + fmt("%.2g", probe_se) + ")"
                      : o->s.probes == 1 ? " (probe SE undefined: one probe per row)"
                                         : "") +
                     "\n";
  if (!o->target.empty())
    text += "exact: " + fmt("%.6f", mean - sums[1] / n) + "  (mean |error| per row " +
            fmt("%.2g", sums[2] / n) + ")\n";
  say(comm, text + "wrote " + o->out + "/ (loglik.npy, " +
                (probes_defined ? "loglik_se.npy, " : "") + "metrics.json)\n");
}

}  // namespace scorematch::app
