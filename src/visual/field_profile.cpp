#include "scorematch/visual/field_profile.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "scorematch/core/error.hpp"

namespace scorematch {

double silverman_bandwidth(const Vector& x) {
  const Index n = x.size();
  if (n < 2) throw Error("a kernel density estimate needs at least 2 data rows");
  const double mean = x.mean();
  const double sd = std::sqrt((x.array() - mean).square().sum() / static_cast<double>(n - 1));
  std::vector<double> v(x.data(), x.data() + n);
  std::sort(v.begin(), v.end());
  auto quantile = [&](double p) {
    const double pos = p * static_cast<double>(n - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const std::size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
  };
  const double iqr = quantile(0.75) - quantile(0.25);
  const double spread = iqr > 0 ? std::min(sd, iqr / 1.34) : sd;
  if (!(spread > 0)) throw Error("the data column is constant: no kernel density estimate");
  return 0.9 * spread * std::pow(static_cast<double>(n), -0.2);
}

Profile evaluate_profile(const ScoreModel& model, const ProfileSpec& spec, const Matrix& data) {
  const Index d = model.dim();
  if (spec.axis < 0 || spec.axis >= d)
    throw SettingError(setting("profile") + " axis must lie in [0, " + std::to_string(d) + ")");
  if (spec.n < 2) throw Error("the profile needs at least 2 points");
  if (!(spec.t_max > spec.t_min) || !std::isfinite(spec.t_min + spec.t_max))
    throw Error("profile range must have t_min < t_max (finite)");
  if (spec.through.size() != 0 && spec.through.size() != d)
    throw SettingError(setting("through") + " needs " + std::to_string(d) + " values");
  Profile p;
  p.t = Vector::LinSpaced(spec.n, spec.t_min, spec.t_max);
  p.points = Matrix(spec.n, d);
  const Vector base = spec.through.size() == d ? spec.through : Vector::Zero(d);
  for (Index k = 0; k < spec.n; ++k) {
    p.points.row(k) = base.transpose();
    p.points(k, spec.axis) = p.t[k];
  }
  p.model_gradient = -model.score(p.points).col(spec.axis);
  if (!p.model_gradient.allFinite())
    throw Error("the model's score is NaN or Inf on part of the line; narrow " + setting("range"));
  if (model.has_energy()) {
    p.model_potential = model.energy(p.points);
    p.model_potential.array() -= p.model_potential.minCoeff();
  }
  if (data.rows() > 0) {
    if (data.cols() != d)
      throw Error("the data have " + std::to_string(data.cols()) + " columns, the model " +
                  std::to_string(d));
    const Vector x = data.col(spec.axis);
    const double h = silverman_bandwidth(x);
    p.bandwidth = h;
    p.data_potential.resize(spec.n);
    p.data_gradient.resize(spec.n);
    for (Index k = 0; k < spec.n; ++k) {
      // log Σ K_i and the K-weighted mean of (t − x_i), by log-sum-exp.
      const Vector u = (p.t[k] - x.array()) / h;
      const Vector logk = -0.5 * u.array().square();
      const double top = logk.maxCoeff();
      const Vector w = (logk.array() - top).exp();
      const double sum = w.sum();
      p.data_potential[k] = -(top + std::log(sum));
      p.data_gradient[k] = w.dot(u) / (sum * h);
    }
    p.data_potential.array() -= p.data_potential.minCoeff();
  }
  return p;
}

}  // namespace scorematch
