#include "diagnose.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include "report.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/diagnostics/convergence.hpp"
#include "scorematch/diagnostics/two_sample.hpp"
#include "scorematch/io/dataset.hpp"

namespace scorematch::app {

namespace {
constexpr Index kReadChunk = 1 << 15;
constexpr double kRhatOk = 1.01;        // Vehtari et al. (2021)
constexpr double kEssPerChainOk = 100;  // … and ESS ≥ 100 per chain (≥ 400 in all for 4 chains)

std::vector<Index> thinned(Index total, Index keep) {
  keep = std::min(total, keep);
  std::vector<Index> rows(static_cast<std::size_t>(keep));
  for (Index i = 0; i < keep; ++i)
    rows[static_cast<std::size_t>(i)] = static_cast<Index>(
        static_cast<double>(i) * static_cast<double>(total) / static_cast<double>(keep));
  return rows;
}

nlohmann::json number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

// The samples file, checked against the request (collective).
io::DataInfo probe_samples(const dist::Comm& comm, const DiagRequest& req) {
  io::DataInfo info;
  dist::run_collectively(comm, [&] {
    info = io::probe_data(req.samples);
    if (req.chains < 1) throw SettingError("diag needs --chains ≥ 1");
    if (info.rows % req.chains != 0)
      throw Error(
          "'" + req.samples + "' has " + std::to_string(info.rows) + " rows, not a multiple of " +
          (req.chains_from.empty() ? "--chains " + std::to_string(req.chains) : req.chains_from) +
          " (samples are (chains x draws) x d, chain-major)");
    if (req.model != nullptr && req.model->dim() != info.cols())
      throw Error("dimension mismatch: the model has dimension " +
                  std::to_string(req.model->dim()) + " but '" + req.samples + "' has " +
                  std::to_string(info.cols()) + " columns");
  });
  return info;
}

using diagnostics::Stat;
using diagnostics::Undefined;
constexpr int kStats = diagnostics::kStatCount;
constexpr int kFields = 2 * kStats;

// Per-dimension summaries: this rank's dimensions, read in row chunks (memory: draws × own dims).
// Each dimension's fields: the kStatCount statistics, then the code of why each is undefined;
// every rank returns all dimensions' fields.
// With superchains, `nested` receives (nested R-hat, why undefined) per dimension.
std::vector<double> dimension_fields(const dist::Comm& comm, const DiagRequest& req,
                                     const io::DataInfo& info, Index chains, Index draws,
                                     std::vector<double>& nested) {
  const Index d = info.cols();
  const RowRange dims = balanced_range(d, comm.rank(), comm.size());
  std::vector<double> fields(static_cast<std::size_t>(d * kFields), 0.0);
  nested.assign(static_cast<std::size_t>(2 * d), 0.0);
  dist::run_collectively(comm, [&] {
    std::vector<Matrix> per_dim(static_cast<std::size_t>(dims.size()), Matrix(chains, draws));
    for (Index begin = 0; begin < info.rows && dims.size() > 0; begin += kReadChunk) {
      const Index end = std::min(info.rows, begin + kReadChunk);
      const Matrix chunk = io::read_data_rows(info, {begin, end});
      if (!chunk.allFinite()) throw Error("'" + req.samples + "' contains NaN or Inf draws");
      for (Index r = begin; r < end; ++r)
        for (Index j = dims.begin; j < dims.end; ++j)
          per_dim[static_cast<std::size_t>(j - dims.begin)](r / draws, r % draws) =
              chunk(r - begin, j);
    }
    for (Index j = dims.begin; j < dims.end; ++j) {
      // Statistics that posterior leaves NA (e.g. R-hat with < 4 draws per chain) stay NaN here.
      const diagnostics::ConvergenceSummary s =
          diagnostics::summarize(per_dim[static_cast<std::size_t>(j - dims.begin)]);
      double* v = &fields[static_cast<std::size_t>(j * kFields)];
      for (int k = 0; k < kStats; ++k) {
        v[k] = s.value(static_cast<Stat>(k));
        v[kStats + k] = static_cast<double>(s.why(static_cast<Stat>(k)));
      }
      if (req.superchains > 0) {
        const diagnostics::NestedRhat n = diagnostics::nested_rhat(
            per_dim[static_cast<std::size_t>(j - dims.begin)], req.superchains);
        nested[static_cast<std::size_t>(2 * j)] = n.value;
        nested[static_cast<std::size_t>(2 * j + 1)] = static_cast<double>(n.why);
      }
    }
  });
  comm.allreduce_sum(fields);  // one non-zero contributor per entry: exact (NaN, Inf included)
  comm.allreduce_sum(nested);
  return fields;
}

// Aggregates over the columns; an undefined value in any column leaves the aggregate undefined.
struct Extreme {
  double value;  // over the columns where the statistic is defined (R-hat may be +Inf)
  Index undefined = 0;
  std::string first;     // "'column' (reason)" of the first undefined column
  std::string infinite;  // "'column'" of the first infinite value
};
struct Extremes {
  Extreme worst_rhat{-std::numeric_limits<double>::infinity(), 0, "", ""};
  Extreme min_bulk{std::numeric_limits<double>::infinity(), 0, "", ""};
  Extreme min_tail{std::numeric_limits<double>::infinity(), 0, "", ""};
};

// report.per_dimension, the worst R-hat and smallest ESS and why any is undefined.
Extremes summarise_dimensions(const std::vector<double>& fields, const io::DataInfo& info,
                              nlohmann::json& report) {
  const Index d = info.cols();
  Extremes x;
  Extreme& worst_rhat = x.worst_rhat;
  Extreme& min_bulk = x.min_bulk;
  Extreme& min_tail = x.min_tail;
  auto why = [&](Index j, Stat stat) {
    const double code =
        fields[static_cast<std::size_t>(j * kFields + kStats + static_cast<int>(stat))];
    return diagnostics::describe(static_cast<Undefined>(static_cast<int>(code)));
  };
  nlohmann::json per = nlohmann::json::array();
  auto track = [&](Extreme& e, Index j, Stat stat, bool larger) {
    const double v = fields[static_cast<std::size_t>(j * kFields + static_cast<int>(stat))];
    if (std::isnan(v)) {
      if (e.undefined++ == 0)
        e.first = "'" + info.columns[static_cast<std::size_t>(j)] + "' (" + why(j, stat) + ")";
    } else {
      if (std::isinf(v) && e.infinite.empty())
        e.infinite = "'" + info.columns[static_cast<std::size_t>(j)] + "'";
      e.value = larger ? std::max(e.value, v) : std::min(e.value, v);
    }
  };
  for (Index j = 0; j < d; ++j) {
    const double* v = &fields[static_cast<std::size_t>(j * kFields)];
    nlohmann::json entry = {{"column", info.columns[static_cast<std::size_t>(j)]}};
    nlohmann::json undefined = nlohmann::json::object();  // statistic → why it is null
    for (int k = 0; k < kStats; ++k) {
      const auto stat = static_cast<Stat>(k);
      entry[diagnostics::stat_name(stat)] = number(v[k]);
      if (!std::isfinite(v[k])) undefined[diagnostics::stat_name(stat)] = why(j, stat);
    }
    entry["undefined"] = undefined;
    per.push_back(entry);
    track(worst_rhat, j, Stat::rhat, true);
    track(min_bulk, j, Stat::ess_bulk, false);
    track(min_tail, j, Stat::ess_tail, false);
  }
  report["per_dimension"] = per;
  nlohmann::json undefined_totals = nlohmann::json::object();
  auto total = [&](const char* key, const char* label, const Extreme& e) {
    if (e.undefined > 0) {
      undefined_totals[key] = std::string(label) + " undefined in " + std::to_string(e.undefined) +
                              " of " + std::to_string(d) + " columns, first " + e.first;
      report[key] = nullptr;
    } else if (!e.infinite.empty()) {
      undefined_totals[key] = std::string(label) + " is +Inf in column " + e.infinite;
      report[key] = nullptr;
    } else {
      report[key] = e.value;
    }
  };
  total("worst_rhat", "R-hat", worst_rhat);
  total("min_ess_bulk", "ESS-bulk", min_bulk);
  total("min_ess_tail", "ESS-tail", min_tail);
  report["undefined"] = undefined_totals;

  return x;
}

// KSD against the model's score and energy distance / MMD against reference draws, on an evenly
// thinned subsample of the draws.
void pair_statistics(const dist::Comm& comm, const DiagRequest& req, const io::DataInfo& info,
                     nlohmann::json& report) {
  const Index d = info.cols();
  const std::vector<Index> subsample = thinned(info.rows, req.max_pairs_rows);
  const Index n = static_cast<Index>(subsample.size());
  Matrix x;
  if ((req.model != nullptr || !req.reference.empty()) && n > 0)
    dist::run_collectively(comm, [&] { x = io::read_selected_rows(info, subsample); });
  const std::string overflow_reason =
      "overflow: squared distances between draws exceed the float64 range";
  if (req.model != nullptr && n > 0 && diagnostics::pair_distances_overflow(x, x)) {
    report["ksd"] = {{"value", nullptr},
                     {"squared_v_statistic", nullptr},
                     {"undefined", overflow_reason},
                     {"kernel", "IMQ (1 + |x-y|^2)^(-1/2)"},
                     {"rows_used", n}};
    if (req.ksd_bootstrap > 0)
      report["ksd_test"] = {{"statistic", nullptr},
                            {"p_value", nullptr},
                            {"bootstrap", req.ksd_bootstrap},
                            {"undefined", overflow_reason}};
  } else if (req.model != nullptr && n > 0) {
    double ksd2 = 0;
    dist::run_collectively(
        comm, [&] { ksd2 = diagnostics::kernel_stein_discrepancy2(comm, x, *req.model); });
    report["ksd"] = {{"value", std::sqrt(std::max(0.0, ksd2))},
                     {"squared_v_statistic", ksd2},
                     {"kernel", "IMQ (1 + |x-y|^2)^(-1/2)"},
                     {"rows_used", n}};
    if (req.ksd_bootstrap > 0) {
      diagnostics::KsdTest t;
      dist::run_collectively(comm, [&] {
        t = diagnostics::ksd_test(comm, x, *req.model, req.ksd_bootstrap, req.ksd_seed);
      });
      auto number = [](double v) {
        return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
      };
      report["ksd_test"] = {
          {"statistic", number(t.statistic)},
          {"p_value", number(t.p_value)},
          {"bootstrap", t.bootstrap},
          {"rows_used", t.rows},
          {"null_hypothesis", "the draws come from the model"},
          {"method",
           "KSD^2 U-statistic, IMQ kernel; wild bootstrap with Rademacher multipliers "
           "(Liu, Lee & Jordan 2016; Chwialkowski, Strathmann & Gretton 2016)"},
          {"assumes", "independent draws: thin MCMC output to about its ESS first"}};
      if (!t.undefined.empty()) report["ksd_test"]["undefined"] = t.undefined;
    }
  }
  if (!req.reference.empty() && n > 0) {
    Matrix y;
    dist::run_collectively(comm, [&] {
      const io::DataInfo ref = io::probe_data(req.reference);
      if (ref.cols() != d)
        throw Error("dimension mismatch: '" + req.reference + "' has " +
                    std::to_string(ref.cols()) + " columns, the samples " + std::to_string(d));
      y = io::read_selected_rows(ref, thinned(ref.rows, req.max_pairs_rows));
      if (!y.allFinite()) throw Error("'" + req.reference + "' contains NaN or Inf");
    });
    const diagnostics::TwoSample t = diagnostics::two_sample_statistics(comm, x, y);
    report["reference"] = {{"file", req.reference},
                           {"rows_used", y.rows()},
                           {"energy_distance", t.energy_distance},
                           {"mmd2_imq", t.mmd2_imq}};
    if (diagnostics::pair_distances_overflow(x, y) || diagnostics::pair_distances_overflow(y, y) ||
        !std::isfinite(t.energy_distance)) {
      report["reference"]["energy_distance"] = nullptr;
      report["reference"]["mmd2_imq"] = nullptr;
      report["reference"]["undefined"] = overflow_reason;
    }
  }
}

// report.nested_rhat: per column, the worst, and the verdict against 1 + δ.
nlohmann::json nested_report(const DiagRequest& req, const io::DataInfo& info,
                             const std::vector<double>& nested) {
  const Index d = info.cols(), chains = req.chains;
  nlohmann::json out = {{"superchains", req.superchains},
                        {"threshold", req.nested_threshold},
                        {"method",
                         "nested R-hat (Margossian et al. 2024): superchains of "
                         "consecutive chains, each started from one point"}};
  if (chains % req.superchains != 0) {
    out["value"] = nullptr;
    out["undefined"] = "the " + std::to_string(req.superchains) +
                       " superchains do not divide the " + std::to_string(chains) + " chains";
    return out;
  }
  out["chains_per_superchain"] = chains / req.superchains;
  nlohmann::json per = nlohmann::json::array();
  double worst = -std::numeric_limits<double>::infinity();
  std::string first_undefined;
  for (Index j = 0; j < d; ++j) {
    const double v = nested[static_cast<std::size_t>(2 * j)];
    const auto why =
        static_cast<Undefined>(static_cast<int>(nested[static_cast<std::size_t>(2 * j + 1)]));
    nlohmann::json e = {{"column", info.columns[static_cast<std::size_t>(j)]},
                        {"nested_rhat", number(v)}};
    if (!std::isfinite(v)) {
      const std::string reason =
          req.superchains < 2 ? "needs at least 2 superchains" : diagnostics::describe(why);
      e["undefined"] = reason;
      if (first_undefined.empty())
        first_undefined = "'" + info.columns[static_cast<std::size_t>(j)] + "' (" + reason + ")";
    } else {
      worst = std::max(worst, v);
    }
    per.push_back(e);
  }
  out["per_dimension"] = per;
  if (!first_undefined.empty()) {
    out["worst"] = nullptr;
    out["undefined"] = "undefined in column " + first_undefined;
    out["converged"] = false;
  } else {
    out["worst"] = worst;
    out["converged"] = worst < req.nested_threshold;
  }
  return out;
}

void add_verdict(const Extremes& x, Index chains, Index d, nlohmann::json& report) {
  const Extreme& worst_rhat = x.worst_rhat;
  const Extreme& min_bulk = x.min_bulk;
  const Extreme& min_tail = x.min_tail;
  // Verdict: converged only when every column's R-hat, ESS-bulk and ESS-tail is defined and good.
  // Defined values that fail say "NOT converged"; undefined ones (NaN, e.g. one draw per chain or
  // a constant column) can show neither, and say "not assessed".
  const double ess_needed = kEssPerChainOk * std::min<double>(static_cast<double>(chains), 4.0);
  const double min_ess = std::min(min_bulk.value, min_tail.value);
  const bool rhat_ok = worst_rhat.value < kRhatOk;  // vacuous (-inf) when no column has an R-hat
  const bool ess_ok = min_ess >= ess_needed;        // vacuous (+inf) when no column has an ESS
  std::string failures, unknown;
  if (!rhat_ok) failures += "worst R-hat " + fmt("%.3f", worst_rhat.value) + " >= 1.01; ";
  if (!ess_ok)
    failures += "min ESS " + fmt("%.0f", min_ess) + " < " + fmt("%.0f", ess_needed) + "; ";
  for (const auto& [label, e] : {std::pair<const char*, const Extreme*>{"R-hat", &worst_rhat},
                                 {"ESS-bulk", &min_bulk},
                                 {"ESS-tail", &min_tail}})
    if (e->undefined > 0)
      unknown += std::string(unknown.empty() ? "" : "; ") + label + " undefined in " +
                 std::to_string(e->undefined) + " of " + std::to_string(d) + " columns, first " +
                 e->first;
  std::string verdict;
  if (!failures.empty())
    verdict = "NOT converged: " + failures + (unknown.empty() ? "" : unknown + "; ") +
              "run longer chains or more warm-up, or tune the step size";
  else if (!unknown.empty())
    verdict = "not assessed: " + unknown + " (an undefined R-hat or ESS cannot show convergence)";
  else
    verdict = "converged: worst R-hat " + fmt("%.3f", worst_rhat.value) + " < 1.01 and min ESS " +
              fmt("%.0f", min_ess) + " >= " + fmt("%.0f", ess_needed);
  report["converged"] = failures.empty() && unknown.empty() && d > 0;
  report["verdict"] = verdict;
}
}  // namespace

nlohmann::json run_diagnostics(const dist::Comm& comm, const DiagRequest& req) {
  io::DataInfo info = probe_samples(comm, req);
  const Index d = info.cols(), chains = req.chains, draws = info.rows / chains;
  if (static_cast<Index>(req.columns.size()) == d) info.columns = req.columns;
  nlohmann::json report = {{"samples", req.samples},
                           {"chains", chains},
                           {"draws_per_chain", draws},
                           {"dim", d},
                           {"columns", info.columns}};
  std::vector<double> nested;
  const std::vector<double> fields = dimension_fields(comm, req, info, chains, draws, nested);
  const Extremes extremes = summarise_dimensions(fields, info, report);
  if (req.superchains > 0) report["nested_rhat"] = nested_report(req, info, nested);
  pair_statistics(comm, req, info, report);
  add_verdict(extremes, chains, d, report);
  // Superchains that disagree overrule a classic verdict that passed.
  if (report.contains("nested_rhat") && report["nested_rhat"].contains("worst") &&
      report["nested_rhat"]["worst"].is_number() &&
      !report["nested_rhat"]["converged"].get<bool>() && report["converged"].get<bool>()) {
    report["converged"] = false;
    report["verdict"] = "NOT converged: worst nested R-hat " +
                        fmt("%.4f", report["nested_rhat"]["worst"].get<double>()) +
                        " >= " + fmt("%.4g", req.nested_threshold) +
                        " (the superchains disagree); run more warm-up or more steps";
  }
  return report;
}

std::string format_report(const nlohmann::json& r) {
  std::ostringstream out;
  auto cell = [](const nlohmann::json& v, const char* f) {
    return v.is_null() ? std::string("-") : fmt(f, v.get<double>());
  };
  out << "diagnostics: " << r["chains"].get<Index>() << " chains x "
      << r["draws_per_chain"].get<Index>() << " draws, d = " << r["dim"].get<Index>() << "\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-12s %11s %10s %11s %11s %11s %7s %9s %9s %10s %10s\n",
                "column", "mean", "sd", "q05", "median", "q95", "R-hat", "ESS-bulk", "ESS-tail",
                "MCSE", "MCSE-sd");
  out << line;
  const auto& per = r["per_dimension"];
  const std::size_t shown = std::min<std::size_t>(per.size(), 12);
  for (std::size_t j = 0; j < shown; ++j) {
    const auto& p = per[j];
    std::snprintf(line, sizeof line, "%-12.12s %11s %10s %11s %11s %11s %7s %9s %9s %10s %10s\n",
                  p["column"].get<std::string>().c_str(), cell(p["mean"], "%.4g").c_str(),
                  cell(p["sd"], "%.4g").c_str(), cell(p["q05"], "%.4g").c_str(),
                  cell(p["median"], "%.4g").c_str(), cell(p["q95"], "%.4g").c_str(),
                  cell(p["rhat"], "%.3f").c_str(), cell(p["ess_bulk"], "%.0f").c_str(),
                  cell(p["ess_tail"], "%.0f").c_str(), cell(p["mcse_mean"], "%.2g").c_str(),
                  cell(p["mcse_sd"], "%.2g").c_str());
    out << line;
  }
  if (per.size() > shown) out << "... (" << per.size() - shown << " more columns in the JSON)\n";
  // Why the "-" cells are undefined: one line per distinct set of reasons, with its columns.
  std::vector<std::pair<nlohmann::json, std::vector<std::string>>> undefined;
  for (const auto& p : per) {
    if (!p.contains("undefined") || p["undefined"].empty()) continue;
    auto same = std::find_if(undefined.begin(), undefined.end(),
                             [&](const auto& u) { return u.first == p["undefined"]; });
    if (same == undefined.end()) {
      undefined.emplace_back(p["undefined"], std::vector<std::string>());
      same = std::prev(undefined.end());
    }
    same->second.push_back(p["column"].get<std::string>());
  }
  for (const auto& [reasons, columns] : undefined) {
    std::map<std::string, std::string> by_reason;  // reason → statistics
    for (const auto& [stat, reason] : reasons.items()) {
      std::string& stats = by_reason[reason.get<std::string>()];
      stats += (stats.empty() ? "" : ", ") + stat;
    }
    std::string text;
    for (const auto& [reason, stats] : by_reason)
      text += (text.empty() ? "" : "; ") + stats + ": " + reason;
    std::string names;
    for (std::size_t i = 0; i < std::min<std::size_t>(columns.size(), 3); ++i)
      names += (i == 0 ? "" : ", ") + columns[i];
    if (columns.size() > 3) names += ", ...";
    out << "undefined in " << columns.size() << " column(s) (" << names << "): " << text << "\n";
  }
  if (r.contains("nested_rhat")) {
    const nlohmann::json& n = r["nested_rhat"];
    out << "nested R-hat (" << n["superchains"].get<Index>() << " superchains): "
        << (n.contains("worst") && n["worst"].is_number()
                ? "worst " + fmt("%.4f", n["worst"].get<double>()) +
                      (n["converged"].get<bool>() ? " < " : " >= ") +
                      fmt("%.4g", n["threshold"].get<double>())
                : "undefined (" + n.value("undefined", "") + ")")
        << "\n";
  }
  if (r.contains("ksd_test")) {
    const nlohmann::json& t = r["ksd_test"];
    out << "KSD test (H0: draws from the model; " << t["bootstrap"].get<Index>()
        << " wild-bootstrap replicates): "
        << (t["p_value"].is_number() ? "U = " + fmt("%.4g", t["statistic"].get<double>()) +
                                           ", p = " + fmt("%.4g", t["p_value"].get<double>())
                                     : "undefined (" + t.value("undefined", "") + ")")
        << "\n";
  }
  if (r.contains("ksd"))
    out << "kernel Stein discrepancy (IMQ, " << r["ksd"]["rows_used"].get<Index>() << " draws): "
        << (r["ksd"]["value"].is_number() ? fmt("%.4g", r["ksd"]["value"].get<double>())
                                          : "undefined (" + r["ksd"].value("undefined", "") + ")")
        << "\n";
  if (r.contains("reference")) {
    const nlohmann::json& ref = r["reference"];
    if (ref["energy_distance"].is_number())
      out << "vs reference: energy distance " + fmt("%.4g", ref["energy_distance"].get<double>()) +
                 ", MMD^2 (IMQ) " + fmt("%.4g", ref["mmd2_imq"].get<double>()) + "\n";
    else
      out << "vs reference: energy distance and MMD undefined (" + ref.value("undefined", "") +
                 ")\n";
  }
  out << "verdict: " << r["verdict"].get<std::string>() << "\n";
  return out.str();
}

}  // namespace scorematch::app
