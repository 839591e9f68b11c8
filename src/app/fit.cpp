#include "fit.hpp"

#include <iostream>

#include "fit_support.hpp"
#include "report.hpp"
#include "run_control.hpp"

namespace scorematch::app {

// Global row 0 (owned by rank 0), the shared reference point for shifted statistics.
Vector reference_row(const dist::Comm& comm, const Shard& shard) {
  std::vector<double> row(static_cast<std::size_t>(shard.info.cols()), 0.0);
  if (comm.is_root()) Eigen::Map<Vector>(row.data(), shard.info.cols()) = shard.rows.row(0);
  comm.broadcast(row);
  return Eigen::Map<const Vector>(row.data(), static_cast<Index>(row.size()));
}

// The sandwich pass costs about n p² (d + 2) flops; by default we skip it when that would take
// more than a few tens of seconds, and say so.
// Undefined (not computed, even with --se on) unless n > p: the sandwich's middle term, the
// covariance of the n per-row gradients, has rank ≤ n − 1 and would give some combinations of
// the parameters a standard error of 0. `why_not` gets the reason for meta.json.
bool want_standard_errors(const dist::Comm& comm, const FitJob& o, Index n, Index p, Index d,
                          std::string& why_not) {
  why_not = "not computed";
  if (o.se == "off") return false;
  if (n <= p) {
    why_not = "undefined: " + std::to_string(n) + " rows for " + std::to_string(p) +
              " parameters (the sandwich estimate needs more rows than parameters)";
    say(comm, "note: standard errors " + why_not + "\n");
    return false;
  }
  if (o.se == "on") return true;
  const double flops =
      static_cast<double>(n) * static_cast<double>(p * p) * static_cast<double>(d + 2);
  if (flops <= 5e10) return true;
  say(comm, "note: skipping standard errors (" + std::to_string(p) +
                " parameters: the sandwich pass would cost " + fmt("%.1e", flops) +
                " flops); use --se on to force them\n");
  return false;
}

Matrix theta_covariance(const dist::Comm& comm, const Shard& shard, const Vector& shift,
                        const Vector& scale, const MonomialBasis& basis, const Vector& theta,
                        const Vector& penalty) {
  const SandwichStats global = SandwichStats::unpack(
      dist::exact_global_sum(comm,
                             sandwich_partials(shard.rows, shift, scale, basis, theta, penalty)),
      basis.size());
  Matrix cov;
  dist::run_collectively(comm, [&] { cov = sandwich_covariance(global, penalty); });
  return cov;
}

nlohmann::json fit_meta(const dist::Comm& comm, const FitJob& o, const Shard& shard,
                        double seconds) {
  return {{"columns", shard.info.columns},
          {"fit",
           {{"method", "closed-form score matching (Hyvarinen 2005)"},
            {"data", o.data},
            {"rows", shard.info.rows},
            {"model", o.model},
            {"ridge", o.ridge},
            {"ranks", comm.size()},
            {"threads_per_rank", parallel::num_threads()},
            {"thread_backend", parallel::backend_name()},
            {"seconds", seconds}}}};
}

void write_model(const dist::Comm& comm, const std::string& out, const ScoreModel& model,
                 const nlohmann::json& meta, const NamedArrays& extra,
                 const std::vector<std::pair<std::string, std::string>>& texts) {
  dist::run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    io::OutputDir dir(out);
    io::stage_model(dir, model, meta, extra);
    for (const auto& [name, text] : texts) dir.write_text(name, text);
    dir.commit();
  });
  std::string files;
  for (const auto& [name, array] : model.arrays()) files += " " + name + ".npy";
  for (const auto& [name, array] : extra) files += " " + name + ".npy";
  for (const auto& [name, text] : texts) files += " " + name;
  say(comm, "wrote " + out + "/ (meta.json" + files + ")\n");
}

void fit_gaussian(const dist::Comm& comm, const FitJob& o, const Shard& shard,
                  std::chrono::steady_clock::time_point start) {
  const Index d = shard.info.cols();
  // The covariance holds squared deviations: a column whose spread squared overflows float64
  // (sd > ~1.3e154) is reported as an overflow, not mistaken for a constant column.
  const dist::ColumnStats stats =
      dist::column_stats(comm, shard.rows, shard.info.rows, shard.info.columns, o.data);
  dist::run_collectively(comm, [&] {
    for (Index j = 0; j < d; ++j) {
      const double sd = stats.sd[j];
      if (!std::isfinite(sd * sd * static_cast<double>(shard.info.rows)))
        throw Error("column " + std::to_string(j + 1) + " '" +
                    shard.info.columns[static_cast<std::size_t>(j)] + "' of '" + o.data +
                    "': its variance overflows float64 (sd " + fmt("%.3g", sd) +
                    "); rescale the column, or fit poly:2 (standardised) instead");
    }
  });
  const Vector reference = reference_row(comm, shard);
  const GaussianStats global = GaussianStats::unpack(
      dist::exact_global_sum(comm, gaussian_stats_partials(shard.rows, reference)), d);
  GaussianFit fit;
  dist::run_collectively(
      comm, [&] { fit = solve_gaussian_sm(global, reference, o.ridge, shard.info.columns); });
  const GaussianModel model(fit.mean, fit.precision);

  NamedArrays extra;
  std::optional<GaussianStandardErrors> se;
  const GaussianNatural natural = gaussian_natural(fit, reference);
  std::string se_why_not;
  if (want_standard_errors(comm, o, shard.info.rows, natural.basis.size(), d, se_why_not)) {
    const Vector penalty = o.ridge * natural.ridge_weights;
    if (!penalty.allFinite())
      throw InvalidSetting("ridge", "be small enough that 4 × ridge is finite",
                           number_text(o.ridge));
    const Matrix cov = theta_covariance(comm, shard, reference, Vector::Ones(d), natural.basis,
                                        natural.theta, penalty);
    se = gaussian_standard_errors(natural, cov, fit, reference);
    extra["mean_se"] = Array::from(se->mean);
    extra["precision_se"] = Array::from(se->precision);
  }
  // ISM objective at the optimum: ½ tr(P S P) − tr P.
  const double ism =
      0.5 * (fit.precision * fit.covariance * fit.precision).trace() - fit.precision.trace();

  std::ostringstream text;
  text << "gaussian score matching (closed form; equals the MLE) on " << shard.info.rows
       << " rows x " << d << " columns\n";
  text << "  " << pad("column", 14) << pad("mean", 16) << (se ? "s.e." : "") << "\n";
  for (Index j = 0; j < d; ++j)
    text << "  " << pad(shard.info.columns[static_cast<std::size_t>(j)], 14)
         << pad(fmt("%.10g", fit.mean[j]), 16) << (se ? fmt("%.4g", se->mean[j]) : "") << "\n";
  text << "  precision" << (se ? " (s.e.)" : "") << ":\n";
  for (Index j = 0; j < d; ++j) {
    text << "   ";
    for (Index k = 0; k < d; ++k)
      text << " "
           << pad(fmt("%.6g", fit.precision(j, k)) +
                      (se ? " (" + fmt("%.3g", se->precision(j, k)) + ")" : ""),
                  24);
    text << "\n";
  }
  text << "  ISM objective J = " << fmt("%.8g", ism) << "\n";
  say(comm, text.str());

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json meta = fit_meta(comm, o, shard, seconds);
  meta["fit"]["ism_objective"] = ism;
  meta["fit"]["standard_errors"] = se ? "sandwich" : se_why_not;
  write_model(comm, o.out, model, meta, extra);
}

std::string monomial_name(const Exponent& a) {
  std::string name;
  for (std::size_t j = 0; j < a.size(); ++j) {
    if (a[j] == 0) continue;
    if (!name.empty()) name += "*";
    name += "z" + std::to_string(j + 1) + (a[j] > 1 ? "^" + std::to_string(a[j]) : "");
  }
  return name;
}

// The polynomial family's coordinates z = (x − shift) / scale: the column means and standard
// deviations (--standardize, the default) or the identity.
std::pair<Vector, Vector> polynomial_standardisation(const dist::Comm& comm, const FitJob& o,
                                                     const Shard& shard) {
  const Index d = shard.info.cols();
  Vector shift = Vector::Zero(d), scale = Vector::Ones(d);
  if (o.standardize) {
    // Standardise by the column means and standard deviations (the one deterministic routine).
    const dist::ColumnStats stats =
        dist::column_stats(comm, shard.rows, shard.info.rows, shard.info.columns, o.data);
    shift = stats.mean;
    scale = stats.sd;
    dist::run_collectively(comm, [&] {
      for (Index j = 0; j < d; ++j)
        if (!(scale[j] > 1e-13 * std::fabs(shift[j])) || !(scale[j] > 0))
          throw Error("column " + std::to_string(j + 1) + " '" +
                      shard.info.columns[static_cast<std::size_t>(j)] +
                      "' is constant (variance 0): it cannot be standardised; drop it, or use "
                      "--no-standardize with a ridge penalty, e.g. --ridge 1e-6");
    });
  }
  return {shift, scale};
}

void fit_polynomial(const dist::Comm& comm, const FitJob& o, const Shard& shard, int degree,
                    std::chrono::steady_clock::time_point start) {
  const Index d = shard.info.cols();
  const auto [shift, scale] = polynomial_standardisation(comm, o, shard);
  const MonomialBasis basis = MonomialBasis::total_degree(d, degree, 1);
  const MomentTable table(d, std::max(2 * degree - 2, 0));
  const MomentStats moments = MomentStats::unpack(
      dist::exact_global_sum(comm, moment_partials(shard.rows, shift, scale, table)));
  Vector theta;
  QuadraticObjective objective;
  dist::run_collectively(comm, [&] {
    objective = assemble_polynomial_objective(basis, table, moments);
    theta = solve_quadratic_objective(objective, o.ridge, Vector::Ones(basis.size()));
  });
  const PolynomialModel model(basis, theta, shift, scale);
  const double ism = 0.5 * theta.dot(objective.A * theta) + theta.dot(objective.b);
  const auto check = model.check_leading_form();

  NamedArrays extra;
  std::optional<Vector> se;
  std::string se_why_not;
  if (want_standard_errors(comm, o, shard.info.rows, basis.size(), d, se_why_not)) {
    const Vector penalty = Vector::Constant(basis.size(), o.ridge);
    const Matrix cov = theta_covariance(comm, shard, shift, scale, basis, theta, penalty);
    se = cov.diagonal().cwiseMax(0.0).cwiseSqrt();
    extra["theta_se"] = Array::from(*se);
    extra["theta_cov"] = Array::from(cov);
  }

  std::ostringstream text;
  text << "polynomial score matching, degree " << degree << " (" << basis.size()
       << " monomials), on " << shard.info.rows << " rows x " << d << " columns\n";
  text << "  standardised coordinates z = (x - shift) / scale"
       << (o.standardize ? " (column means and standard deviations)" : " (identity)") << "\n";
  text << "  " << pad("monomial", 20) << pad("theta", 16) << (se ? "s.e." : "") << "\n";
  for (Index m = 0; m < basis.size(); ++m)
    text << "  " << pad(monomial_name(basis.exponents()[static_cast<std::size_t>(m)]), 20)
         << pad(fmt("%.8g", theta[m]), 16) << (se ? fmt("%.4g", (*se)[m]) : "") << "\n";
  text << "  ISM objective J = " << fmt("%.8g", ism) << " (standardised units)\n";
  text << "  " << check.message << "\n";
  say(comm, text.str());
  if (!check.normalisable && comm.is_root())
    std::cerr << "scorematch: warning: " << check.message << "\n";

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json meta = fit_meta(comm, o, shard, seconds);
  meta["fit"]["degree"] = degree;
  meta["fit"]["standardized"] = o.standardize;
  meta["fit"]["ism_objective_standardized"] = ism;
  meta["fit"]["normalisable"] = check.normalisable;
  meta["fit"]["normalisability_check"] = check.message;
  meta["fit"]["standard_errors"] = se ? "sandwich" : se_why_not;
  write_model(comm, o.out, model, meta, extra);
}

// The closed-form families: degree 0 = gaussian, K = poly:K.
void fit_closed_form(const dist::Comm& comm, FitJob& o, int degree) {
  // A closed-form fit has no checkpoint to write: a stop signal takes its default action.
  end_on_stop_signal();
  const auto start = std::chrono::steady_clock::now();
  // Whole blocks of kFitBlock rows per rank: every statistic's chunks are then the same global
  // rows on any decomposition, and their exact sums make the fit bitwise for any ranks.
  const Shard shard = read_block_shard(comm, o.data, kFitBlock, o.dim);
  if (degree == 0)
    fit_gaussian(comm, o, shard, start);
  else if (o.neural.objective.name == "nce")
    fit_polynomial_by_nce(comm, o, shard, degree, start);
  else
    fit_polynomial(comm, o, shard, degree, start);
}

void fit_network(const dist::Comm& comm, FitJob& o, MlpOutput output) {
  fit_neural(comm, {o.data, o.model, o.out, o.dim, o.standardize, output}, o.neural);
}

// The model families of `fit`: a new family is one function plus one line here.
struct FitFamily {
  const char* name;            // the --model value, or its prefix before ":K"
  const char* parameter_help;  // non-null: the family takes ":K" (e.g. "1 <= K <= 12")
  int parameter_min, parameter_max;
  bool neural;  // trained by the neural options (objective, optimiser, checkpoints)
  void (*run)(const dist::Comm&, FitJob&, int parameter);
};
const FitFamily kFitFamilies[] = {
    {"gaussian", nullptr, 0, 0, false,
     [](const dist::Comm& c, FitJob& o, int) { fit_closed_form(c, o, 0); }},
    {"poly", "1 <= K <= 12", 1, 12, false, fit_closed_form},
    {"mlp-energy", nullptr, 0, 0, true,
     [](const dist::Comm& c, FitJob& o, int) { fit_network(c, o, MlpOutput::energy); }},
    {"mlp-score", nullptr, 0, 0, true,
     [](const dist::Comm& c, FitJob& o, int) { fit_network(c, o, MlpOutput::score); }},
};

// The family of --model and its parameter; a clear Error otherwise.
std::pair<const FitFamily*, int> find_family(const std::string& model) {
  for (const FitFamily& f : kFitFamilies) {
    const std::string name = f.name;
    if (f.parameter_help == nullptr) {
      if (model == name) return {&f, 0};
      continue;
    }
    if (model.rfind(name + ":", 0) != 0) continue;
    try {
      std::size_t used = 0;
      const std::string text = model.substr(name.size() + 1);
      const int k = std::stoi(text, &used);
      if (used == text.size() && k >= f.parameter_min && k <= f.parameter_max) return {&f, k};
    } catch (const std::exception&) {
    }
    throw SettingError(setting("model") + " '" + model +
                       "' is not a closed-form family (expected gaussian or poly:K with " +
                       f.parameter_help + ")");
  }
  std::string known;
  for (const FitFamily& f : kFitFamilies)
    known += std::string(known.empty() ? "" : ", ") + f.name +
             (f.parameter_help ? std::string(":K with ") + f.parameter_help : "");
  throw SettingError(setting("model") + " '" + model +
                     "' is not a model family of fit (expected one of: " + known + ")");
}
void run_fit(const dist::Comm& comm, FitJob& job) {
  std::pair<const FitFamily*, int> family{nullptr, 0};
  dist::run_collectively(comm, [&] {
    family = find_family(job.model);
    if (family.first->neural && !job.closed_form_given.empty())
      throw SettingError(job.closed_form_given.front() +
                         " applies to closed-form fits (--model gaussian | poly:K), not " +
                         job.model);
    const bool nce = job.neural.objective.name == "nce";
    for (const std::string& given : job.closed_form_given)
      if (nce && given.rfind("--se", 0) == 0)
        throw SettingError(
            given +
            " does not apply to nce: it always computes the sandwich standard errors (the "
            "SE of log Z needs them)");
    if (nce && !family.first->neural && family.first->parameter_help == nullptr)
      throw SettingError(setting("objective") +
                         " nce applies to poly:K and mlp-energy; a gaussian fit is the "
                         "maximum-likelihood estimate already (normalised, log Z = 0)");
    // Settings NCE of the polynomial family reads besides the run-driving ones.
    auto nce_reads = [&](const std::string& key) {
      return nce && (key == "objective" || key == "noise" || key == "noise_ratio" || key == "seed");
    };
    if (!family.first->neural)
      for (const NeuralOptions::Given& g : job.neural.given)
        if (g.component != "run" && !nce_reads(g.key))
          throw SettingError(g.name + " applies to neural models (--model mlp-energy | mlp-score)" +
                             std::string(nce ? " or is not read by nce" : "") + ", not " +
                             job.model);
  });
  family.first->run(comm, job, family.second);
}

}  // namespace scorematch::app
