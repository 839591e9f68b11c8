#include "scorematch/diagnostics/convergence.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <numbers>
#include <numeric>
#include <unsupported/Eigen/FFT>
#include <vector>

#include "scorematch/core/error.hpp"

namespace scorematch::diagnostics {

Vector autocovariance(const Vector& x) {
  const Index n = x.size();
  if (n == 0) return Vector();
  // Zero-pad to a power of two ≥ 2n so the circular correlation equals the linear one.
  Index m = 1;
  while (m < 2 * n) m *= 2;
  std::vector<double> padded(static_cast<std::size_t>(m), 0.0);
  const double mean = x.mean();
  for (Index i = 0; i < n; ++i) padded[static_cast<std::size_t>(i)] = x[i] - mean;
  // One FFT object per thread: kissfft caches its twiddle tables per length.
  thread_local Eigen::FFT<double> fft;
  std::vector<std::complex<double>> spectrum;
  fft.fwd(spectrum, padded);
  for (auto& c : spectrum) c = std::norm(c);
  std::vector<double> acov;
  fft.inv(acov, spectrum);
  Vector out(n);
  for (Index t = 0; t < n; ++t) out[t] = acov[static_cast<std::size_t>(t)] / static_cast<double>(n);
  return out;
}

Vector autocorrelation(const Vector& x) {
  Vector a = autocovariance(x);
  if (a.size() > 0 && a[0] > 0) a /= a[0];
  return a;
}

namespace {

// var⁺ and W of M chains of N draws.
struct Variances {
  double var_plus, within;
};
Variances variances(const Matrix& c) {
  const double n = static_cast<double>(c.cols());
  const Vector means = c.rowwise().mean();
  const double within = ((c.colwise() - means).rowwise().squaredNorm() / (n - 1.0)).mean();
  const double between_over_n = c.rows() > 1 ? (means.array() - means.mean()).square().sum() /
                                                   static_cast<double>(c.rows() - 1)
                                             : 0.0;
  return {(n - 1.0) / n * within + between_over_n, within};
}

Matrix split(const Matrix& c) {
  const Index half = c.cols() / 2;
  Matrix s(2 * c.rows(), half);
  s.topRows(c.rows()) = c.leftCols(half);
  s.bottomRows(c.rows()) = c.middleCols(c.cols() - half, half);
  return s;
}

Matrix rank_normalise(const Matrix& c) {
  const Index total = c.size();
  std::vector<Index> order(static_cast<std::size_t>(total));
  std::iota(order.begin(), order.end(), Index{0});
  const double* v = c.data();
  std::sort(order.begin(), order.end(), [&](Index a, Index b) { return v[a] < v[b]; });
  Matrix z(c.rows(), c.cols());
  double* out = z.data();
  const double s = static_cast<double>(total);
  for (Index i = 0; i < total;) {
    Index j = i;
    while (j + 1 < total &&
           v[order[static_cast<std::size_t>(j + 1)]] == v[order[static_cast<std::size_t>(i)]])
      ++j;
    const double rank = 0.5 * static_cast<double>(i + j) + 1.0;  // average rank, 1-based
    const double q = normal_quantile((rank - 0.375) / (s + 0.25));
    for (Index k = i; k <= j; ++k) out[order[static_cast<std::size_t>(k)]] = q;
    i = j + 1;
  }
  return z;
}

// Linear-interpolation quantile of v (reordered in place), by selection: O(n).
double quantile(std::vector<double>& v, double p) {
  const double pos = p * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(lo), v.end());
  const double a = v[lo];
  const double b = lo + 1 < v.size()
                       ? *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(lo + 1), v.end())
                       : a;
  return a + (pos - static_cast<double>(lo)) * (b - a);
}

double rhat_of(const Matrix& c) {
  const Variances v = variances(c);
  return v.within > 0 ? std::sqrt(v.var_plus / v.within) : std::numeric_limits<double>::quiet_NaN();
}

bool is_constant(const Matrix& c) {
  return c.maxCoeff() == c.minCoeff();
}

}  // namespace

double effective_sample_size(const Matrix& c) {
  const Index m = c.rows(), n = c.cols();
  if (n < 4 || !c.allFinite()) return std::numeric_limits<double>::quiet_NaN();
  if (is_constant(c)) return std::numeric_limits<double>::quiet_NaN();
  Matrix acov(m, n);
  for (Index k = 0; k < m; ++k) acov.row(k) = autocovariance(c.row(k).transpose()).transpose();
  const Vector mean_acov = acov.colwise().mean().transpose();
  const Variances v = variances(c);
  const double nn = static_cast<double>(n);
  // ρ_t = 1 − (W − mean_m acov_m(t)·N/(N−1)… ) as in Stan: acov are biased (÷N) estimates.
  const double w = mean_acov[0] * nn / (nn - 1.0);
  auto rho = [&](Index t) { return 1.0 - (w - mean_acov[t]) / v.var_plus; };
  double tau = -1.0, previous = std::numeric_limits<double>::infinity();
  for (Index t = 0; t + 1 < n; t += 2) {
    double pair = rho(t) + rho(t + 1);
    if (pair < 0) break;
    pair = std::min(pair, previous);  // initial monotone sequence
    tau += 2.0 * pair;
    previous = pair;
  }
  const double total = static_cast<double>(m) * nn;
  tau = std::max(tau, 1.0 / std::log10(total));  // Stan's cap: ESS ≤ S log10 S
  return total / tau;
}

double split_rhat_plain(const Matrix& c) {
  return rhat_of(split(c));
}

ConvergenceSummary summarize(const Matrix& c) {
  if (c.cols() < 4) throw Error("convergence diagnostics need at least 4 draws per chain");
  ConvergenceSummary s;
  std::vector<double> all(c.data(), c.data() + c.size());
  s.mean = c.mean();
  s.sd = std::sqrt((c.array() - s.mean).square().sum() / static_cast<double>(c.size() - 1));
  s.q05 = quantile(all, 0.05);
  s.median = quantile(all, 0.5);
  s.q95 = quantile(all, 0.95);
  const Matrix sp = split(c);
  if (is_constant(c)) {
    s.rhat = s.ess_bulk = s.ess_tail = s.mcse_mean = std::numeric_limits<double>::quiet_NaN();
    return s;
  }
  const Matrix z = rank_normalise(sp);
  const double bulk = rhat_of(z);
  const double folded = rhat_of(rank_normalise((sp.array() - s.median).abs().matrix()));
  s.rhat = std::max(bulk, folded);
  s.ess_bulk = effective_sample_size(z);
  auto indicator_ess = [&](double q) {
    return effective_sample_size((sp.array() <= q).cast<double>().matrix());
  };
  const double lo = indicator_ess(s.q05), hi = indicator_ess(s.q95);
  s.ess_tail = std::isnan(lo) ? hi : (std::isnan(hi) ? lo : std::min(lo, hi));
  s.mcse_mean = s.sd / std::sqrt(effective_sample_size(sp));
  return s;
}

double normal_quantile(double p) {
  if (!(p > 0 && p < 1)) throw Error("normal_quantile needs p in (0, 1)");
  // Acklam (2003) coefficients.
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double cc[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                              -2.400758277161838e+00, -2.549732539343734e+00,
                              4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double plow = 0.02425;
  double x;
  if (p < plow) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((cc[0] * q + cc[1]) * q + cc[2]) * q + cc[3]) * q + cc[4]) * q + cc[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - plow) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log1p(-p));
    x = -(((((cc[0] * q + cc[1]) * q + cc[2]) * q + cc[3]) * q + cc[4]) * q + cc[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  // Halley refinement with the exact CDF Φ(x) = ½ erfc(−x/√2).
  const double e = 0.5 * std::erfc(-x / std::numbers::sqrt2) - p;
  const double u = e * std::sqrt(2 * std::numbers::pi) * std::exp(0.5 * x * x);
  return x - u / (1 + 0.5 * x * u);
}

}  // namespace scorematch::diagnostics
