// fit --model poly:K --objective nce: the polynomial family by noise-contrastive estimation,
// solved to optimality (estimators/polynomial_nce.hpp), rows sharded over ranks. The model
// directory gets logz.json with the estimated log-normaliser c (method "nce") so that loglik and
// compare use it directly.
#include <iostream>
#include <sstream>

#include "fit_support.hpp"
#include "memory_budget.hpp"
#include "report.hpp"
#include "scorematch/estimators/polynomial_nce.hpp"

namespace scorematch::app {

namespace {
// The noise distribution: a Gaussian with the data's mean and covariance, or the data's box.
NceNoise make_noise(const dist::Comm& comm, const FitJob& o, const Shard& shard) {
  const Index d = shard.info.cols();
  std::string kind = o.neural.objective.noise;
  const bool given = std::any_of(o.neural.given.begin(), o.neural.given.end(),
                                 [](const auto& g) { return g.key == "noise"; });
  if (!given) kind = "gaussian";
  dist::run_collectively(comm, [&] {
    if (kind != "gaussian" && kind != "uniform")
      throw InvalidSetting("noise", "be gaussian or uniform for nce", kind);
  });
  NceNoise noise;
  if (kind == "uniform") {
    std::vector<double> top(static_cast<std::size_t>(2 * d),
                            -std::numeric_limits<double>::infinity());
    for (Index j = 0; j < d && shard.rows.rows() > 0; ++j) {
      top[static_cast<std::size_t>(j)] = shard.rows.col(j).maxCoeff();
      top[static_cast<std::size_t>(d + j)] = -shard.rows.col(j).minCoeff();
    }
    comm.allreduce_max(top);
    const Eigen::Map<const Vector> all(top.data(), 2 * d);
    dist::run_collectively(comm, [&] { noise = NceNoise::uniform(-all.tail(d), all.head(d)); });
    return noise;
  }
  // The Gaussian MLE (exact sums: bitwise for any ranks), as the gaussian family fits it.
  std::vector<double> first(static_cast<std::size_t>(d), 0.0);
  if (comm.is_root()) Eigen::Map<Vector>(first.data(), d) = shard.rows.row(0);
  comm.broadcast(first);
  const Vector reference = Eigen::Map<const Vector>(first.data(), d);
  const GaussianStats stats = GaussianStats::unpack(
      dist::exact_global_sum(comm, gaussian_stats_partials(shard.rows, reference)), d);
  dist::run_collectively(comm, [&] {
    const GaussianFit g = solve_gaussian_sm(stats, reference, 0.0, shard.info.columns);
    noise = NceNoise::gaussian(g.mean, g.covariance);
  });
  return noise;
}
}  // namespace

void fit_polynomial_by_nce(const dist::Comm& comm, const FitJob& o, const Shard& shard, int degree,
                           std::chrono::steady_clock::time_point start) {
  const Index d = shard.info.cols();
  const auto [shift, scale] = polynomial_standardisation(comm, o, shard);
  const NceNoise noise = make_noise(comm, o, shard);
  const NceProblem problem{MonomialBasis::total_degree(d, degree, 1),
                           shift,
                           scale,
                           noise,
                           o.neural.objective.noise_ratio,
                           o.neural.seed,
                           o.ridge};
  NceFit fit;
  dist::run_collectively(comm, [&] {
    // This rank's noise rows and their monomial features (ν per data row).
    require_memory(static_cast<double>(shard.rows.rows()) * static_cast<double>(problem.ratio) *
                       static_cast<double>(d + problem.basis.size()) * 8,
                   setting("noise_ratio") + " " + std::to_string(problem.ratio));
    fit = fit_polynomial_nce(comm, problem, shard.rows, shard.range.begin, shard.info.rows);
  });
  const MonomialBasis& basis = problem.basis;
  const Index p = basis.size();
  const PolynomialModel model(basis, fit.theta, shift, scale);
  const auto check = model.check_leading_form();
  const Vector se = fit.covariance.diagonal().cwiseMax(0.0).cwiseSqrt();

  std::ostringstream text;
  text << "polynomial noise-contrastive estimation, degree " << degree << " (" << p
       << " monomials + log-normaliser), " << shard.info.rows << " rows x " << d << " columns, "
       << problem.ratio << " " << noise.kind << " noise rows per data row\n";
  text << "  standardised coordinates z = (x - shift) / scale"
       << (o.standardize ? " (column means and standard deviations)" : " (identity)") << "\n";
  text << "  " << pad("monomial", 20) << pad("theta", 16) << "s.e.\n";
  for (Index m = 0; m < p; ++m)
    text << "  " << pad(monomial_name(basis.exponents()[static_cast<std::size_t>(m)]), 20)
         << pad(fmt("%.8g", fit.theta[m]), 16) << fmt("%.4g", se[m]) << "\n";
  text << "  log-normaliser c = log Z = " << fmt("%.8g", fit.log_normaliser) << " +- "
       << fmt("%.3g", se[p]) << " (data units)\n";
  text << "  NCE loss " << fmt("%.10g", fit.loss) << " after " << fit.iterations
       << " Newton iterations (gradient norm " << fmt("%.2g", fit.gradient_norm) << ")\n";
  text << "  " << check.message << "\n";
  say(comm, text.str());
  if (!check.normalisable && comm.is_root())
    std::cerr << "scorematch: warning: " << check.message << "\n";

  nlohmann::json meta = fit_meta(comm, o, shard, seconds_since(start));
  meta["fit"]["method"] = "noise-contrastive estimation (Gutmann & Hyvarinen 2012), Newton";
  meta["fit"]["degree"] = degree;
  meta["fit"]["standardized"] = o.standardize;
  meta["fit"]["noise"] = noise.kind;
  meta["fit"]["noise_ratio"] = problem.ratio;
  meta["fit"]["seed"] = problem.seed;
  meta["fit"]["nce_loss"] = fit.loss;
  meta["fit"]["newton_iterations"] = fit.iterations;
  meta["fit"]["normalisable"] = check.normalisable;
  meta["fit"]["normalisability_check"] = check.message;
  meta["fit"]["standard_errors"] = "sandwich";
  nlohmann::json logz = {
      {"log_z", fit.log_normaliser},
      {"se", se[p]},
      {"method", "nce"},
      {"source", {{"kind", model.kind()}}},
      {"dim", d},
      {"note", "the log-normaliser c fitted with theta by noise-contrastive estimation"}};
  if (!check.normalisable) {  // Z = ∞: c estimates nothing
    logz["log_z"] = nullptr;
    logz["se"] = nullptr;
    logz["undefined"] = "the fitted density cannot be normalised: " + check.message;
  }
  NamedArrays extra;
  extra["theta_se"] = Array::from(Vector(se.head(p)));
  extra["theta_cov"] = Array::from(Matrix(fit.covariance.topLeftCorner(p, p)));
  write_model(comm, o.out, model, meta, extra, {{"logz.json", logz.dump(2) + "\n"}});
}

}  // namespace scorematch::app
