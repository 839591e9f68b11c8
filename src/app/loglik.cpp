#include "loglik.hpp"

#include <filesystem>

#include "logz.hpp"
#include "report.hpp"
#include "scorematch/io/model_dir.hpp"

namespace scorematch::app {

namespace {
nlohmann::json number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}

}  // namespace

bool is_time_conditioned(const LoadedScore& src) {
  return src.noised && src.noised->scheme() == NoiseScheme::vpsde;
}

namespace {
// The probability-flow ODE of a time-conditioned score (or a closed-form target).
RowLogDensity flow_rows(const dist::Comm& comm, const LoglikJob& o, const Shard& shard,
                        const LoadedScore& src) {
  RowLogDensity out;
  dist::run_collectively(comm, [&] {
    // Block by block (64 global rows), so each row's value is the same on any number of ranks.
    const Index local = shard.rows.rows();
    out.value.resize(local);
    out.probe_se.resize(local);
    for_each_block(shard.range, [&](RowRange block, Index offset) {
      const FlowLikelihood part = flow_log_likelihood(
          *src.noised, shard.rows.middleRows(offset, block.size()), block.begin, o.s);
      out.value.segment(offset, block.size()) = part.log_density;
      out.probe_se.segment(offset, block.size()) = part.standard_error;
    });
    if (!o.target.empty()) out.exact = -src.model->energy(shard.rows);
  });
  out.method = {{"method", "probability-flow ODE (Song et al. 2021)"},
                {"steps", o.s.steps},
                {"t_eps", o.s.t_eps},
                {"probes", o.s.probes},
                {"divergence", o.s.probes == 0 ? "exact" : "hutchinson (rademacher)"}};
  return out;
}
}  // namespace

// The normaliser of an energy model: --logz, else logz.json in the model directory, else exact
// (normalised energies: log Z = 0).
std::optional<LogZEstimate> find_normaliser(const std::string& logz, const std::string& model_dir,
                                            const ScoreModel& model) {
  auto checked = [&](LogZEstimate e) {
    if ((!e.kind.empty() && e.kind != model.kind()) || (e.dim > 0 && e.dim != model.dim()))
      throw Error("'" + e.source + "' was estimated for a " + e.kind + " model of dimension " +
                  std::to_string(e.dim) + ", not this " + model.kind() + " model of dimension " +
                  std::to_string(model.dim()));
    if (!e.fingerprint.empty() && !model_dir.empty() &&
        e.fingerprint != io::model_fingerprint(model_dir))
      throw Error("'" + e.source + "' was estimated for the model '" + e.model +
                  "', whose contents differ from '" + model_dir +
                  "' (model fingerprints differ): estimate this model's log Z with scorematch "
                  "logz");
    return e;
  };
  if (!logz.empty()) {
    if (model.energy_is_normalised())
      throw SettingError(setting("logz") + " does not apply to this " + model.kind() +
                         " model: its energy is normalised (log Z = 0 exactly)");
    return checked(read_logz(logz));
  }
  if (!model_dir.empty() && std::filesystem::exists(model_dir + "/logz.json"))
    return checked(read_logz(model_dir));
  if (model.energy_is_normalised())
    return LogZEstimate{0.0,          0.0,         "exact", "the model's normalised energy",
                        model.kind(), model.dim(), "",      ""};
  return std::nullopt;
}

namespace {
LogZEstimate energy_normaliser(const LoglikJob& o, const ScoreModel& model) {
  if (auto found = find_normaliser(o.logz, o.model, model)) return *found;
  if (const std::string problem = model.normalisability_problem(); !problem.empty())
    throw Error("this " + model.kind() +
                " model has no log-likelihood (log Z is infinite): " + problem);
  throw Error("this " + model.kind() +
              " model's energy is not normalised: estimate its log Z first (scorematch logz "
              "--model " +
              o.model + " --out Z) and pass " + setting("logz") + " Z/logz.json");
}

// log p(x) = −φ(x) − log Z for an energy model.
RowLogDensity energy_rows(const dist::Comm& comm, const LoglikJob& o, const Shard& shard,
                          const LoadedScore& src) {
  RowLogDensity out;
  dist::run_collectively(comm, [&] {
    if (!src.model->has_energy())
      throw Error("this " + src.model->kind() +
                  " model has only a score and no time conditioning: its log-likelihood is "
                  "not defined (fit an energy model, or a time-conditioned score with "
                  "--objective dsm --noise vpsde for the probability-flow ODE)");
    out.log_z = energy_normaliser(o, *src.model);
    out.value.resize(shard.rows.rows());
    for_each_block(shard.range, [&](RowRange block, Index offset) {
      out.value.segment(offset, block.size()) =
          -src.model->energy(shard.rows.middleRows(offset, block.size())).array() -
          out.log_z->log_z;
    });
  });
  out.method = {{"method", "energy and log Z"},
                {"log_z", out.log_z->log_z},
                {"log_z_se", number(out.log_z->se)},
                {"log_z_method", out.log_z->method},
                {"log_z_source", out.log_z->source}};
  return out;
}
}  // namespace

RowLogDensity row_log_density(const dist::Comm& comm, const LoglikJob& o, const Shard& shard,
                              const LoadedScore& src) {
  return is_time_conditioned(src) ? flow_rows(comm, o, shard, src)
                                  : energy_rows(comm, o, shard, src);
}

void run_loglik(const dist::Comm& comm, LoglikJob& job) {
  const LoglikJob& o = job;
  const Shard shard = read_block_shard(comm, o.data);
  LoadedScore src;
  dist::run_collectively(comm, [&] {
    src = load_score_source(o.model, o.target, shard.info.cols(), NoiseScheme::vpsde,
                            VpSde{o.beta_min, o.beta_max});
    check_data_fits_model(src, shard.info, o.data);
    if (!o.flow_options_given.empty() && !is_time_conditioned(src))
      throw SettingError(
          o.flow_options_given.front() +
          " applies to the probability-flow ODE of a time-conditioned model, not to this " +
          src.model->kind() + " model (its log-likelihood is -energy - log Z)");
    if (!o.logz.empty() && is_time_conditioned(src))
      throw SettingError(setting("logz") +
                         " applies to energy models; this time-conditioned model's "
                         "log-likelihood comes from the probability-flow ODE");
  });
  const RowLogDensity ll = row_log_density(comm, o, shard, src);
  dist::run_collectively(comm, [&] {
    for (Index i = 0; i < ll.value.size(); ++i)
      if (!std::isfinite(ll.value[i]))
        throw Error("the log-likelihood is not finite at row " +
                    std::to_string(shard.range.begin + i + 1) + " of '" + o.data + "'");
  });
  // Exact (decomposition-free) reductions: mean and centred spread of the values, the sum of
  // the squared probe SEs and the errors against the exact values.
  const double n = static_cast<double>(shard.info.rows);
  const dist::ColumnStats stats =
      dist::column_stats(comm, Matrix(ll.value), shard.info.rows, {"loglik"}, o.data);
  const double mean = stats.mean[0];
  const double se = n > 1 ? stats.sd[0] / std::sqrt(n - 1) : std::nan("");  // s/√n
  const bool flow = is_time_conditioned(src);
  const bool probes_defined = flow && o.s.probes != 1;
  const bool has_exact = flow && !o.target.empty();
  Matrix extra = Matrix::Zero(shard.rows.rows(), 3);
  if (probes_defined) extra.col(0) = ll.probe_se.cwiseAbs2();
  if (has_exact) {
    extra.col(1) = ll.value - ll.exact;
    extra.col(2) = extra.col(1).cwiseAbs();
  }
  const std::vector<double> sums = dist::exact_column_sums(comm, extra);
  // SE of the mean from the probes alone; undefined with one probe per row.
  const double probe_se = probes_defined ? std::sqrt(sums[0]) / n : std::nan("");
  // An estimated log Z shifts every row by the same error: it adds to the mean's variance.
  const double logz_se = ll.log_z ? ll.log_z->se : 0.0;
  const double total_se = std::sqrt(se * se + logz_se * logz_se);
  nlohmann::json metrics = {{"data", o.data},
                            {"rows", static_cast<Index>(n)},
                            {"source", src.description},
                            {"mean_loglik", mean},
                            {"mean_loglik_se_over_rows", number(se)}};
  metrics.update(ll.method);
  nlohmann::json undefined = nlohmann::json::object();
  if (!std::isfinite(se)) undefined["mean_loglik_se_over_rows"] = "one row: no spread to estimate";
  if (flow) {
    metrics["mean_loglik_se_from_probes"] = number(probe_se);
    if (!probes_defined)
      undefined["mean_loglik_se_from_probes"] =
          "one probe per row cannot estimate its spread (use --probes 0 for the exact "
          "divergence, or --probes >= 2)";
  } else {
    metrics["mean_loglik_se"] = number(total_se);
    if (!std::isfinite(se))
      undefined["mean_loglik_se"] = "one row: no spread to estimate";
    else if (!std::isfinite(logz_se))
      undefined["mean_loglik_se"] = "the SE of log Z is undefined";
  }
  if (!undefined.empty()) metrics["undefined"] = undefined;
  if (has_exact) {
    metrics["exact_mean_loglik"] = mean - sums[1] / n;
    metrics["mean_error_vs_exact"] = sums[1] / n;
    metrics["mean_abs_error_vs_exact"] = sums[2] / n;
  }
  CollectiveOutput output(comm, o.out);
  dist::write_npy_collective(comm, output.staged + "loglik.npy", ll.value, true);
  if (probes_defined)  // per-row SEs exist (0 for the exact divergence); never NaN in a file
    dist::write_npy_collective(comm, output.staged + "loglik_se.npy", ll.probe_se, true);
  output.commit(comm, {{"metrics.json", metrics.dump(2) + "\n"}});
  const std::string count = std::to_string(static_cast<Index>(n));
  std::string text = "mean log-likelihood over " + count + " rows: " + fmt("%.6f", mean);
  if (flow) {
    text += (std::isfinite(se) ? " +- " + fmt("%.2g", se) : " (SE undefined: one row)") +
            (o.s.probes > 1    ? " (probe SE " + fmt("%.2g", probe_se) + ")"
             : o.s.probes == 1 ? " (probe SE undefined: one probe per row)"
                               : "");
  } else {
    text += (std::isfinite(total_se) ? " +- " + fmt("%.2g", total_se) : " (SE undefined)") +
            " (rows " + (std::isfinite(se) ? fmt("%.2g", se) : std::string("undefined: one row")) +
            "; log Z " + fmt("%.6g", ll.log_z->log_z) + " by " + ll.log_z->method +
            (std::isfinite(logz_se) ? " +- " + fmt("%.2g", logz_se) : ", its SE undefined") + ")";
  }
  text += "\n";
  if (has_exact)
    text += "exact: " + fmt("%.6f", mean - sums[1] / n) + "  (mean |error| per row " +
            fmt("%.2g", sums[2] / n) + ")\n";
  say(comm, text + "wrote " + o.out + "/ (loglik.npy, " +
                (probes_defined ? "loglik_se.npy, " : "") + "metrics.json)\n");
}

}  // namespace scorematch::app
