#include "compare.hpp"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "data_shard.hpp"
#include "loglik.hpp"
#include "report.hpp"
#include "score_source.hpp"
#include "scorematch/diagnostics/two_sample.hpp"
#include "scorematch/dist/column_stats.hpp"
#include "scorematch/io/dataset.hpp"
#include "scorematch/io/output_dir.hpp"

namespace scorematch::app {

namespace {
nlohmann::json number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}

// "value +- se", or "value (no SE)".
std::string with_se(double value, double se) {
  return fmt("%.4f", value) + (std::isfinite(se) ? " +- " + fmt("%.2g", se) : " (no SE)");
}

// Why the SE of a mean is undefined: one row, or a log Z without SE.
std::string se_reason(Index rows, double logz_se) {
  return rows < 2 ? "one row: no spread to estimate"
                  : (!std::isfinite(logz_se) ? "the log Z used has no SE" : "");
}

struct ModelRow {
  std::string dir, kind;
  bool has_loglik = false;
  std::string no_loglik;  // why not
  Vector loglik;          // this rank's rows
  double loglik_mean = NAN, loglik_se = NAN, logz_se = 0;
  std::string loglik_method;
  bool flow = false;  // log-likelihood by the probability-flow ODE
  double ism_mean = NAN, ism_se = NAN, ksd2 = NAN;
};

// ISM terms ∇·s + ½‖s‖² of this rank's rows, block by block (bitwise for any ranks).
Vector ism_terms(const ScoreModel& model, const Shard& shard) {
  Vector out(shard.rows.rows());
  for_each_block(shard.range, [&](RowRange block, Index offset) {
    const Matrix x = shard.rows.middleRows(offset, block.size());
    out.segment(offset, block.size()) =
        model.score_divergence(x) + 0.5 * model.score(x).rowwise().squaredNorm();
  });
  return out;
}

// Mean and SE (s/√n) of one column over all ranks' rows, exactly reduced.
std::pair<double, double> mean_se(const dist::Comm& comm, const Vector& local, Index n,
                                  const std::string& what, const std::string& data) {
  const dist::ColumnStats s = dist::column_stats(comm, Matrix(local), n, {what}, data);
  const double rows = static_cast<double>(n);
  return {s.mean[0], n > 1 ? s.sd[0] / std::sqrt(rows - 1) : NAN};
}

ModelRow evaluate_model(const dist::Comm& comm, const CompareJob& o, std::size_t k,
                        const Shard& shard, const Matrix& ksd_rows) {
  ModelRow row;
  row.dir = o.models[k];
  LoadedScore src;
  LoglikJob job;
  job.model = row.dir;
  job.data = o.data;
  job.s = o.flow;
  if (o.logz[k] != "auto") job.logz = o.logz[k];
  dist::run_collectively(comm, [&] {
    src = load_score_source(row.dir, "", shard.info.cols());
    row.kind = src.model->kind();
    check_data_fits_model(src, shard.info, o.data, "the model '" + row.dir + "'");
    if (!job.logz.empty() && (is_time_conditioned(src) || !src.model->has_energy()))
      throw SettingError(setting("logz") + " entry " + std::to_string(k + 1) + " ('" + job.logz +
                         "') is for an energy model, but '" + row.dir + "' is a " +
                         (is_time_conditioned(src) ? "time-conditioned model (probability-flow ODE)"
                                                   : "score-only model") +
                         "; give auto for it");
    if (!is_time_conditioned(src)) {
      if (!src.model->has_energy())
        row.no_loglik = "a score-only model without time conditioning has no log-likelihood";
      else if (const std::string problem = src.model->normalisability_problem(); !problem.empty())
        row.no_loglik = "no log-likelihood (log Z is infinite): " + problem;
      else if (!find_normaliser(job.logz, row.dir, *src.model))
        row.no_loglik = "no log Z yet: run `scorematch logz --model " + row.dir + " --out Z`";
    }
  });
  if (row.no_loglik.empty()) {
    const RowLogDensity ll = row_log_density(comm, job, shard, src);
    row.has_loglik = true;
    row.loglik = ll.value;
    row.logz_se = ll.log_z ? ll.log_z->se : 0.0;
    row.loglik_method = ll.log_z ? "log Z by " + ll.log_z->method : "probability-flow ODE";
    row.flow = !ll.log_z.has_value();
    const auto [mean, se] = mean_se(comm, row.loglik, shard.info.rows, "loglik", o.data);
    row.loglik_mean = mean;
    row.loglik_se = std::sqrt(se * se + row.logz_se * row.logz_se);
  }
  Vector ism;
  dist::run_collectively(comm, [&] { ism = ism_terms(*src.model, shard); });
  std::tie(row.ism_mean, row.ism_se) = mean_se(comm, ism, shard.info.rows, "ISM", o.data);
  row.ksd2 = diagnostics::kernel_stein_discrepancy2(comm, ksd_rows, *src.model);
  return row;
}

// Paired difference of mean log-likelihoods a − b and its SE (same rows; log Z errors add).
std::pair<double, double> paired(const dist::Comm& comm, const ModelRow& a, const ModelRow& b,
                                 Index n, const std::string& data) {
  const auto [mean, se] = mean_se(comm, a.loglik - b.loglik, n, "difference", data);
  return {mean, std::sqrt(se * se + a.logz_se * a.logz_se + b.logz_se * b.logz_se)};
}

std::string name_of(const ModelRow& r) {
  return r.dir;
}
}  // namespace

void run_compare(const dist::Comm& comm, CompareJob& job) {
  CompareJob& o = job;
  dist::run_collectively(comm, [&] {
    if (o.models.empty())
      throw SettingError(setting("models") + " needs at least one model directory");
    if (o.logz.empty()) o.logz.assign(o.models.size(), "auto");
    for (std::size_t i = 0; i < o.models.size(); ++i)
      for (std::size_t j = i + 1; j < o.models.size(); ++j)
        if (std::filesystem::path(o.models[i]).lexically_normal() ==
            std::filesystem::path(o.models[j]).lexically_normal())
          throw SettingError(setting("models") + " names '" + o.models[i] + "' twice");
    if (!o.out.empty() && std::filesystem::is_directory(o.out))
      throw SettingError(setting("out") + " '" + o.out +
                         "' is a directory; give a file name for the JSON report");
    if (o.logz.size() != o.models.size())
      throw SettingError(setting("logz") + " needs one entry per model (" +
                         std::to_string(o.models.size()) + "; use auto for a model's own), got " +
                         std::to_string(o.logz.size()));
  });
  const Shard shard = read_block_shard(comm, o.data);
  // KSD² needs all its rows on every rank: the first --ksd-rows rows.
  Matrix ksd_rows;
  dist::run_collectively(comm, [&] {
    const io::DataInfo info = io::probe_data(o.data);
    ksd_rows = io::read_data_rows(info, {0, std::min(info.rows, o.ksd_rows)});
  });
  std::vector<ModelRow> rows;
  for (std::size_t k = 0; k < o.models.size(); ++k)
    rows.push_back(evaluate_model(comm, o, k, shard, ksd_rows));
  dist::run_collectively(comm, [&] {
    const bool any_flow =
        std::any_of(rows.begin(), rows.end(), [](const ModelRow& r) { return r.flow; });
    if (!o.flow_options_given.empty() && !any_flow)
      throw SettingError(o.flow_options_given.front() +
                         " applies to time-conditioned models (probability-flow ODE); none of " +
                         setting("models") + " is one");
  });
  // Sorted: log-likelihood (descending; models without one last), then ISM (ascending).
  std::vector<std::size_t> order(rows.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const ModelRow &ra = rows[a], &rb = rows[b];
    if (ra.has_loglik != rb.has_loglik) return ra.has_loglik;
    if (ra.has_loglik && ra.loglik_mean != rb.loglik_mean) return ra.loglik_mean > rb.loglik_mean;
    return ra.ism_mean < rb.ism_mean;
  });

  std::ostringstream table;
  const Index n = shard.info.rows;
  table << "held-out comparison on " << n << " rows of " << o.data << " (KSD^2 on "
        << ksd_rows.rows() << " rows)\n";
  table << "  " << pad("model", 28) << pad("loglik/row +- SE", 24) << pad("ISM objective +- SE", 26)
        << "KSD^2\n";
  nlohmann::json report_rows = nlohmann::json::array();
  for (std::size_t k : order) {
    const ModelRow& r = rows[k];
    const std::string ll = r.has_loglik ? with_se(r.loglik_mean, r.loglik_se) : "(none)";
    table << "  " << pad(name_of(r), 28) << pad(ll, 24) << pad(with_se(r.ism_mean, r.ism_se), 26)
          << fmt("%.4g", r.ksd2) << "\n";
    nlohmann::json j = {{"model", r.dir},
                        {"kind", r.kind},
                        {"ism_objective", number(r.ism_mean)},
                        {"ism_objective_se", number(r.ism_se)},
                        {"ksd2_imq", number(r.ksd2)}};
    nlohmann::json undefined = nlohmann::json::object();
    if (r.has_loglik) {
      j["mean_loglik"] = r.loglik_mean;
      j["mean_loglik_se"] = number(r.loglik_se);
      j["loglik_method"] = r.loglik_method;
      if (!std::isfinite(r.loglik_se)) undefined["mean_loglik_se"] = se_reason(n, r.logz_se);
    } else {
      j["mean_loglik"] = nullptr;
      undefined["mean_loglik"] = r.no_loglik;
    }
    if (!std::isfinite(r.ism_se)) undefined["ism_objective_se"] = se_reason(n, 0.0);
    if (!undefined.empty()) j["undefined"] = undefined;
    report_rows.push_back(j);
  }
  // Plain words on adjacent pairs of the ranking.
  nlohmann::json verdicts = nlohmann::json::array();
  std::string words;
  for (std::size_t i = 0; i + 1 < order.size(); ++i) {
    const ModelRow &a = rows[order[i]], &b = rows[order[i + 1]];
    if (!a.has_loglik || !b.has_loglik) break;
    const auto [diff, se] = paired(comm, a, b, n, o.data);
    const bool clear = std::isfinite(se) && diff > 2 * se;
    std::string line;
    if (!std::isfinite(se))
      line = name_of(a) + " is ahead of " + name_of(b) + " by " + fmt("%+.4f", diff) +
             " nats/row, but the SE of the difference is undefined (" +
             (n < 2 ? std::string("one row") : std::string("a log Z without SE")) + ")";
    else
      line = name_of(a) + (clear ? " beats " : " is not distinguishable from ") + name_of(b) +
             " in held-out log-likelihood: " + fmt("%+.4f", diff) + " +- " + fmt("%.2g", se) +
             " nats/row (paired" +
             (clear ? ", " + fmt("%.1f", diff / se) + " SE)" : ", within 2 SE)");
    words += "  " + line + "\n";
    verdicts.push_back({{"better", a.dir},
                        {"worse", b.dir},
                        {"difference", diff},
                        {"se", number(se)},
                        {"exceeds_2se", clear}});
  }
  for (const ModelRow& r : rows)
    if (!r.has_loglik) words += "  " + r.dir + ": " + r.no_loglik + "\n";
  say(comm, table.str() + words);
  if (o.out.empty()) return;
  const nlohmann::json report = {{"data", o.data},
                                 {"rows", n},
                                 {"ksd_rows", ksd_rows.rows()},
                                 {"models", report_rows},
                                 {"comparisons", verdicts}};
  dist::run_collectively(comm, [&] {
    if (comm.is_root()) io::write_file_atomic(o.out, report.dump(2) + "\n");
  });
  say(comm, "wrote " + o.out + "\n");
}

}  // namespace scorematch::app
