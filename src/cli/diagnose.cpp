#include "diagnose.hpp"

#include <cmath>
#include <limits>
#include <sstream>

#include "command.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/diagnostics/convergence.hpp"
#include "scorematch/diagnostics/stein.hpp"
#include "scorematch/io/dataset.hpp"

namespace scorematch::cli {

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

// Σ over row blocks of f(block rows), blocks split over ranks; the per-block partials are summed
// in block order, so the result does not depend on the number of ranks.
template <class F>
double distributed_block_sum(const dist::Comm& comm, Index n, F f) {
  const Index blocks = (n + diagnostics::kPairBlock - 1) / diagnostics::kPairBlock;
  const RowRange mine = balanced_range(blocks, comm.rank(), comm.size());
  std::vector<double> partial(static_cast<std::size_t>(blocks), 0.0);
  for (Index b = mine.begin; b < mine.end; ++b)
    partial[static_cast<std::size_t>(b)] =
        f(RowRange{b * diagnostics::kPairBlock, std::min(n, (b + 1) * diagnostics::kPairBlock)});
  comm.allreduce_sum(partial);  // one non-zero contributor per entry: exact
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

nlohmann::json number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}
}  // namespace

nlohmann::json run_diagnostics(const dist::Comm& comm, const DiagRequest& req) {
  io::DataInfo info;
  dist::run_collectively(comm, [&] {
    info = io::probe_data(req.samples);
    if (req.chains < 1) throw Error("diag needs --chains ≥ 1");
    if (info.rows % req.chains != 0)
      throw Error("'" + req.samples + "' has " + std::to_string(info.rows) +
                  " rows, not a multiple of --chains " + std::to_string(req.chains) +
                  " (samples are (chains x draws) x d, chain-major)");
    if (req.model != nullptr && req.model->dim() != info.cols())
      throw Error("dimension mismatch: the model has dimension " +
                  std::to_string(req.model->dim()) + " but '" + req.samples + "' has " +
                  std::to_string(info.cols()) + " columns");
  });
  const Index d = info.cols(), chains = req.chains, draws = info.rows / chains;
  if (static_cast<Index>(req.columns.size()) == d) info.columns = req.columns;
  nlohmann::json report = {{"samples", req.samples},
                           {"chains", chains},
                           {"draws_per_chain", draws},
                           {"dim", d},
                           {"columns", info.columns}};

  // Per-dimension summaries: this rank's dimensions, read in row chunks (memory: draws × own dims).
  constexpr int kFields = 9;
  const RowRange dims = balanced_range(d, comm.rank(), comm.size());
  std::vector<double> fields(static_cast<std::size_t>(d * kFields), 0.0);
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
      const Matrix& c = per_dim[static_cast<std::size_t>(j - dims.begin)];
      diagnostics::ConvergenceSummary s;
      if (draws >= 4) {
        s = diagnostics::summarize(c);
      } else {  // one (or a few) draws per independent chain: no within-chain statistics
        const Matrix flat = Eigen::Map<const Matrix>(c.data(), 1, c.size());
        s = diagnostics::summarize(flat.cols() >= 4 ? flat : c);
        s.rhat = std::numeric_limits<double>::quiet_NaN();
        s.ess_bulk = s.ess_tail = static_cast<double>(c.size());
        s.mcse_mean = s.sd / std::sqrt(static_cast<double>(c.size()));
      }
      const double v[kFields] = {s.mean, s.sd,       s.q05,      s.median,   s.q95,
                                 s.rhat, s.ess_bulk, s.ess_tail, s.mcse_mean};
      for (int f = 0; f < kFields; ++f) fields[static_cast<std::size_t>(j * kFields + f)] = v[f];
    }
  });
  comm.allreduce_sum(fields);
  nlohmann::json per = nlohmann::json::array();
  double worst_rhat = 0, min_bulk = std::numeric_limits<double>::infinity(), min_tail = min_bulk;
  bool rhat_defined = false;
  for (Index j = 0; j < d; ++j) {
    const double* v = &fields[static_cast<std::size_t>(j * kFields)];
    per.push_back({{"column", info.columns[static_cast<std::size_t>(j)]},
                   {"mean", number(v[0])},
                   {"sd", number(v[1])},
                   {"q05", number(v[2])},
                   {"median", number(v[3])},
                   {"q95", number(v[4])},
                   {"rhat", number(v[5])},
                   {"ess_bulk", number(v[6])},
                   {"ess_tail", number(v[7])},
                   {"mcse_mean", number(v[8])}});
    if (std::isfinite(v[5])) {
      worst_rhat = std::max(worst_rhat, v[5]);
      rhat_defined = true;
    }
    min_bulk = std::min(min_bulk, std::isfinite(v[6]) ? v[6] : 0.0);
    min_tail = std::min(min_tail, std::isfinite(v[7]) ? v[7] : 0.0);
  }
  report["per_dimension"] = per;
  report["worst_rhat"] = rhat_defined ? nlohmann::json(worst_rhat) : nlohmann::json(nullptr);
  report["min_ess_bulk"] = number(min_bulk);
  report["min_ess_tail"] = number(min_tail);

  // Pair statistics on an evenly thinned subsample.
  const std::vector<Index> subsample = thinned(info.rows, req.max_pairs_rows);
  const Index n = static_cast<Index>(subsample.size());
  Matrix x;
  if ((req.model != nullptr || !req.reference.empty()) && n > 0)
    dist::run_collectively(comm, [&] { x = io::read_selected_rows(info, subsample); });
  if (req.model != nullptr && n > 0) {
    // Scores: each rank its share of rows, shared by a zero-padded allreduce (exact).
    const RowRange mine = balanced_range(n, comm.rank(), comm.size());
    std::vector<double> s(static_cast<std::size_t>(n * d), 0.0);
    dist::run_collectively(comm, [&] {
      const Matrix local = req.model->score(x.middleRows(mine.begin, mine.size()));
      if (!local.allFinite()) throw Error("the model's score is NaN or Inf at some draws");
      Eigen::Map<Matrix>(s.data() + mine.begin * d, mine.size(), d) = local;
    });
    comm.allreduce_sum(s);
    const Matrix scores = Eigen::Map<const Matrix>(s.data(), n, d);
    const double sum = distributed_block_sum(
        comm, n, [&](RowRange rows) { return diagnostics::imq_stein_sum(x, scores, rows); });
    const double ksd2 = sum / (static_cast<double>(n) * static_cast<double>(n));
    report["ksd"] = {{"value", std::sqrt(std::max(0.0, ksd2))},
                     {"squared_v_statistic", ksd2},
                     {"kernel", "IMQ (1 + |x-y|^2)^(-1/2)"},
                     {"rows_used", n}};
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
    using diagnostics::PairFunction;
    auto mean_pairs = [&](const Matrix& a, const Matrix& b, PairFunction f) {
      return distributed_block_sum(
                 comm, a.rows(),
                 [&](RowRange rows) { return diagnostics::pair_sum(a, b, rows, f); }) /
             (static_cast<double>(a.rows()) * static_cast<double>(b.rows()));
    };
    const double xy = mean_pairs(x, y, PairFunction::distance);
    const double xx = mean_pairs(x, x, PairFunction::distance);
    const double yy = mean_pairs(y, y, PairFunction::distance);
    const double kxy = mean_pairs(x, y, PairFunction::imq_kernel);
    const double kxx = mean_pairs(x, x, PairFunction::imq_kernel);
    const double kyy = mean_pairs(y, y, PairFunction::imq_kernel);
    report["reference"] = {{"file", req.reference},
                           {"rows_used", y.rows()},
                           {"energy_distance", 2 * xy - xx - yy},
                           {"mmd2_imq", kxx + kyy - 2 * kxy}};
  }

  const bool rhat_ok = !rhat_defined || worst_rhat < kRhatOk;
  const double ess_needed = kEssPerChainOk * std::min<double>(static_cast<double>(chains), 4.0);
  const bool ess_ok = min_bulk >= ess_needed && min_tail >= ess_needed;
  std::string verdict;
  if (!rhat_defined)
    verdict = "independent chains (one draw each): R-hat does not apply; ESS = number of chains";
  else if (rhat_ok && ess_ok)
    verdict = "converged: worst R-hat " + fmt("%.3f", worst_rhat) + " < 1.01 and min ESS " +
              fmt("%.0f", std::min(min_bulk, min_tail)) + " >= " + fmt("%.0f", ess_needed);
  else
    verdict = std::string("NOT converged: ") +
              (rhat_ok ? "" : "worst R-hat " + fmt("%.3f", worst_rhat) + " >= 1.01; ") +
              (ess_ok ? ""
                      : "min ESS " + fmt("%.0f", std::min(min_bulk, min_tail)) + " < " +
                            fmt("%.0f", ess_needed) + "; ") +
              "run longer chains or more warm-up, or tune the step size";
  report["converged"] = rhat_defined && rhat_ok && ess_ok;
  report["verdict"] = verdict;
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
  std::snprintf(line, sizeof line, "%-12s %11s %10s %11s %11s %11s %7s %9s %9s %10s\n", "column",
                "mean", "sd", "q05", "median", "q95", "R-hat", "ESS-bulk", "ESS-tail", "MCSE");
  out << line;
  const auto& per = r["per_dimension"];
  const std::size_t shown = std::min<std::size_t>(per.size(), 12);
  for (std::size_t j = 0; j < shown; ++j) {
    const auto& p = per[j];
    std::snprintf(line, sizeof line, "%-12.12s %11s %10s %11s %11s %11s %7s %9s %9s %10s\n",
                  p["column"].get<std::string>().c_str(), cell(p["mean"], "%.4g").c_str(),
                  cell(p["sd"], "%.4g").c_str(), cell(p["q05"], "%.4g").c_str(),
                  cell(p["median"], "%.4g").c_str(), cell(p["q95"], "%.4g").c_str(),
                  cell(p["rhat"], "%.3f").c_str(), cell(p["ess_bulk"], "%.0f").c_str(),
                  cell(p["ess_tail"], "%.0f").c_str(), cell(p["mcse_mean"], "%.2g").c_str());
    out << line;
  }
  if (per.size() > shown) out << "... (" << per.size() - shown << " more columns in the JSON)\n";
  if (r.contains("ksd"))
    out << "kernel Stein discrepancy (IMQ, " << r["ksd"]["rows_used"].get<Index>()
        << " draws): " << fmt("%.4g", r["ksd"]["value"].get<double>()) << "\n";
  if (r.contains("reference"))
    out << "vs reference: energy distance " +
               fmt("%.4g", r["reference"]["energy_distance"].get<double>()) + ", MMD^2 (IMQ) " +
               fmt("%.4g", r["reference"]["mmd2_imq"].get<double>()) + "\n";
  out << "verdict: " << r["verdict"].get<std::string>() << "\n";
  return out.str();
}

}  // namespace scorematch::cli
