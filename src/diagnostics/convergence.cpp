// The statistics of posterior 1.4 (R/convergence.R), line by line; the formulas are in the header.
// Sums and variances follow R's own arithmetic (long-double accumulation, R's mean() correction
// pass, the type-7 quantile's (1 − h)·x_lo + h·x_hi), so that results agree to rounding.
#include "scorematch/diagnostics/convergence.hpp"

#include <algorithm>
#include <cfloat>
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

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// A statistic and, when it is not finite, why.
struct Value {
  double v;
  Undefined why;
};
Value undefined(Undefined why) {
  return {kNaN, why};
}

// R's mean() (src/main/summary.c): a long-double sum, then one correction pass.
double r_mean(const double* x, Index n) {
  const auto ln = static_cast<long double>(n);
  long double s = 0;
  for (Index i = 0; i < n; ++i) s += x[i];
  if (std::isfinite(static_cast<double>(s))) {
    s /= ln;
  } else {  // the sum overflowed (or a draw is infinite): add scaled terms
    s = 0;
    for (Index i = 0; i < n; ++i) s += x[i] / static_cast<double>(n);
  }
  if (std::isfinite(static_cast<double>(s))) {
    long double t = 0;
    for (Index i = 0; i < n; ++i) t += x[i] - s;
    s += t / ln;
  }
  return static_cast<double>(s);
}

// R's var() (src/library/stats/src/cov.c): corrected long-double mean, then Σ (x − x̄)² / (n − 1)
// with the squares in double and the sum in long double. NaN for n < 2 (R: NA).
double r_var(const double* x, Index n) {
  if (n < 2) return kNaN;
  const auto ln = static_cast<long double>(n);
  long double sum = 0;
  for (Index i = 0; i < n; ++i) sum += x[i];
  long double tmp = sum / ln;
  if (std::isfinite(static_cast<double>(tmp))) {
    sum = 0;
    for (Index i = 0; i < n; ++i) sum += x[i] - tmp;
    tmp = tmp + sum / ln;
  }
  const auto mean = static_cast<double>(tmp);
  long double squares = 0;
  for (Index i = 0; i < n; ++i) {
    const double d = x[i] - mean;
    squares += d * d;
  }
  return static_cast<double>(squares / static_cast<long double>(n - 1));
}

// R's median(): the middle draw, or the R mean of the two middle draws; NaN if a draw is NaN.
double r_median(std::vector<double> v) {
  if (v.empty()) return kNaN;
  for (double x : v)
    if (std::isnan(x)) return kNaN;
  const std::size_t half = (v.size() + 1) / 2;  // 1-based index of the (lower) middle draw
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(half - 1);
  std::nth_element(v.begin(), mid, v.end());
  if (v.size() % 2 == 1) return *mid;
  const double pair[2] = {*mid, *std::min_element(mid + 1, v.end())};
  return r_mean(pair, 2);
}

// R's quantile(type = 7) of sorted draws without NaN: index = 1 + (n − 1)p, h = index − ⌊index⌋,
// (1 − h)·x_⌊index⌋ + h·x_⌈index⌉ (only where h > 0 and the two draws differ).
double quantile7(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return kNaN;
  const double index = 1.0 + static_cast<double>(sorted.size() - 1) * p;
  const double lo = std::floor(index), hi = std::ceil(index);
  double q = sorted[static_cast<std::size_t>(lo) - 1];
  const double upper = sorted[static_cast<std::size_t>(hi) - 1];
  if (index > lo && upper != q) {
    const double h = index - lo;
    q = (1 - h) * q + h * upper;
  }
  return q;
}

// posterior's should_return_NA: a NaN or ±Inf draw, or max − min < DBL_EPSILON (absolute).
Undefined should_return_na(const Matrix& c) {
  if (!c.allFinite()) return Undefined::non_finite;
  if (c.size() > 0 && std::abs(c.maxCoeff() - c.minCoeff()) < DBL_EPSILON)
    return Undefined::constant;
  return Undefined::none;
}

// posterior:::.split_chains: the first ⌊N/2⌋ and the last ⌊N/2⌋ draws of each chain as separate
// chains (rows 0 … M−1, then M … 2M−1); N = 1 is returned whole.
Matrix split(const Matrix& c) {
  if (c.cols() == 1) return c;
  const Index half = c.cols() / 2;
  Matrix s(2 * c.rows(), half);
  s.topRows(c.rows()) = c.leftCols(half);
  s.bottomRows(c.rows()) = c.middleCols(c.cols() - half, half);
  return s;
}

// posterior::z_scale: pooled average ranks r → Φ⁻¹((r − 3/8)/(S + 1/4)). With a NaN draw the ranks
// are NA in R and so is every statistic of them: all NaN here.
Matrix z_scale(const Matrix& c) {
  if (c.hasNaN()) return Matrix::Constant(c.rows(), c.cols(), kNaN);
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

// posterior::fold_draws: |x − median(x)| over all draws.
Matrix fold(const Matrix& c) {
  const double median = r_median(std::vector<double>(c.data(), c.data() + c.size()));
  return (c.array() - median).abs().matrix();
}

// posterior:::.ess of the rows of c (see the header): Geyer's initial positive and monotone
// sequences with posterior's lag cap, last-pair rule and τ̂ bound.
Value ess_rows(const Matrix& c) {
  const Index chains = c.rows(), n = c.cols();
  if (n < 3) return undefined(Undefined::few_draws_ess);
  if (const Undefined u = should_return_na(c); u != Undefined::none) return undefined(u);
  const double nn = static_cast<double>(n);
  Vector acov_sum = Vector::Zero(n), means(chains);
  for (Index m = 0; m < chains; ++m) {
    const double* row = c.data() + m * n;  // row-major: chain m is contiguous
    means[m] = r_mean(row, n);
    // posterior:::autocovariance: 0 for a constant chain, else the FFT autocovariance rescaled so
    // that lag 0 is var·(N − 1)/N.
    const double var = r_var(row, n);
    if (var == 0) continue;
    const Vector ac = autocovariance(Eigen::Map<const Vector>(row, n));
    const double ac0 = ac[0];
    for (Index t = 0; t < n; ++t) acov_sum[t] += ac[t] / ac0 * var * (nn - 1.0) / nn;
  }
  const Vector acov = acov_sum / static_cast<double>(chains);
  const double mean_var = acov[0] * nn / (nn - 1.0);
  double var_plus = mean_var * (nn - 1.0) / nn;
  if (chains > 1) var_plus += r_var(means.data(), chains);
  auto rho_at = [&](Index t) { return 1.0 - (mean_var - acov[t]) / var_plus; };

  // Initial positive sequence: pairs (ρ̂_t, ρ̂_{t+1}), t even, while their sum is positive and
  // t < N − 5; a pair with a negative sum is not stored, but its positive even term is.
  std::vector<double> rho(static_cast<std::size_t>(n), 0.0);
  auto r = [&](Index t) -> double& { return rho[static_cast<std::size_t>(t)]; };
  Index t = 0;
  double even = 1.0, odd = rho_at(1);
  r(0) = even;
  r(1) = odd;
  while (t < n - 5 && !std::isnan(even + odd) && even + odd > 0) {
    t += 2;
    even = rho_at(t);
    odd = rho_at(t + 1);
    if (even + odd >= 0) {
      r(t) = even;
      r(t + 1) = odd;
    }
  }
  const Index max_t = t;
  if (even > 0) r(max_t) = even;
  // Initial monotone sequence: a pair larger than the previous one becomes that one's average.
  t = 0;
  while (t <= max_t - 4) {
    t += 2;
    if (r(t) + r(t + 1) > r(t - 2) + r(t - 1)) {
      r(t) = (r(t - 2) + r(t - 1)) / 2;
      r(t + 1) = r(t);
    }
  }
  // τ̂ = −1 + 2 Σ rho[1:max_t] + rho[max_t + 1] in R's 1-based indexing, where 1:0 is c(1, 0):
  // for max_t = 0 the sum is ρ̂_0.
  long double sum = 0;
  for (Index k = 0; k < std::max<Index>(max_t, 1); ++k) sum += r(k);
  double tau = -1.0 + 2.0 * static_cast<double>(sum) + r(max_t);
  const double draws = static_cast<double>(chains) * nn;
  const double tau_bound = 1.0 / std::log10(draws);  // ESS ≤ S·log10(S)
  if (tau < tau_bound) tau = tau_bound;
  return {draws / tau, Undefined::none};
}

// posterior:::.rhat of the rows of c; `if_constant` names a constant input.
Value rhat_rows(const Matrix& c, Undefined if_constant) {
  if (const Undefined u = should_return_na(c); u != Undefined::none)
    return undefined(u == Undefined::constant ? if_constant : u);
  const Index chains = c.rows(), n = c.cols();
  if (n < 2 || chains < 2) return undefined(Undefined::few_draws_rhat);
  const double nn = static_cast<double>(n);
  Vector means(chains), vars(chains);
  bool all_constant = true;
  for (Index m = 0; m < chains; ++m) {
    const double* row = c.data() + m * n;
    means[m] = r_mean(row, n);
    const auto chain = c.row(m);
    if (chain.maxCoeff() == chain.minCoeff()) {
      vars[m] = 0;  // exactly: posterior gets ~1e-33 from rounding, hence R-hat ~1e16
    } else {
      vars[m] = r_var(row, n);
      all_constant = false;
    }
  }
  if (all_constant) return {kInf, Undefined::infinite_rhat};
  const double between = nn * r_var(means.data(), chains);
  const double within = r_mean(vars.data(), chains);
  return {std::sqrt((between / within + nn - 1.0) / nn), Undefined::none};
}

// posterior::rhat: the larger of the bulk and the folded rank-normalised split R-hat (NA if either
// is NA, as R's max()).
Value rhat_of(const Matrix& x) {
  if (x.cols() < 4) {
    // posterior: N = 1 is not split and one-draw chains have no variance (NA); for N = 2 or 3 and
    // M ≥ 2 posterior's split transposes the matrix and reports numbers of the wrong shape.
    if (x.hasNaN()) return undefined(Undefined::non_finite);
    if (x.size() > 0 && x.maxCoeff() == x.minCoeff()) return undefined(Undefined::constant);
    return undefined(Undefined::few_draws_rhat);
  }
  const Value bulk = rhat_rows(z_scale(split(x)), Undefined::constant);
  const Value tail = rhat_rows(z_scale(split(fold(x))), Undefined::constant_folded);
  if (std::isnan(bulk.v)) return bulk;
  if (std::isnan(tail.v)) return tail;
  return bulk.v >= tail.v ? bulk : tail;
}

// posterior:::.ess_quantile: the split ESS of the indicator 1[x ≤ q_p].
Value ess_quantile(const Matrix& x, const std::vector<double>& sorted, double p) {
  if (const Undefined u = should_return_na(x); u != Undefined::none) return undefined(u);
  const double q = quantile7(sorted, p);
  const Matrix indicator = (x.array() <= q).cast<double>().matrix();
  Value e = ess_rows(split(indicator));
  if (e.why == Undefined::constant) e.why = Undefined::constant_indicator;
  return e;
}

// posterior:::.mcse_quantile: half the distance between the draws at the 15.9% and 84.1% points
// of the Beta posterior of the quantile's probability given ess_q(p) effective draws.
Value mcse_quantile(const std::vector<double>& sorted, double p, const Value& ess) {
  if (std::isnan(ess.v)) return ess;
  const double e = ess.v;
  const double a1 = beta_quantile(0.1586553, e * p + 1, e * (1 - p) + 1);
  const double a2 = beta_quantile(0.8413447, e * p + 1, e * (1 - p) + 1);
  const double s = static_cast<double>(sorted.size());
  const double i1 = std::max(std::floor(a1 * s), 1.0), i2 = std::min(std::ceil(a2 * s), s);
  const double th1 = sorted[static_cast<std::size_t>(i1) - 1];
  const double th2 = sorted[static_cast<std::size_t>(i2) - 1];
  return {(th2 - th1) / 2, Undefined::none};
}

constexpr std::array<double ConvergenceSummary::*, kStatCount> kFields = {
    &ConvergenceSummary::mean,     &ConvergenceSummary::sd,       &ConvergenceSummary::q05,
    &ConvergenceSummary::median,   &ConvergenceSummary::q95,      &ConvergenceSummary::rhat,
    &ConvergenceSummary::ess_bulk, &ConvergenceSummary::ess_tail, &ConvergenceSummary::mcse_mean,
    &ConvergenceSummary::mcse_sd,  &ConvergenceSummary::mcse_q05, &ConvergenceSummary::mcse_median,
    &ConvergenceSummary::mcse_q95};

// Continued fraction of the regularised incomplete beta function, modified Lentz (Numerical
// Recipes, 3rd ed., §6.4).
double beta_continued_fraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300, kEps = 4 * DBL_EPSILON;
  const double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (std::abs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 100000; ++m) {
    const double dm = m, m2 = 2 * dm;
    double aa = dm * (b - dm) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + dm) * (qab + dm) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::abs(del - 1) < kEps) break;
  }
  return h;
}

// I_x(a, b), the Beta(a, b) distribution function.
double beta_cdf(double x, double a, double b) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) +
                                a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return front * beta_continued_fraction(a, b, x) / a;
  return 1 - front * beta_continued_fraction(b, a, 1 - x) / b;
}

}  // namespace

double beta_quantile(double p, double a, double b) {
  if (!(p >= 0 && p <= 1) || !(a > 0) || !(b > 0)) return kNaN;
  if (p == 0) return 0;
  if (p == 1) return 1;
  double lo = 0, hi = 1;
  for (int i = 0; i < 1100; ++i) {  // to the last bit: I_x is increasing in x
    const double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    (beta_cdf(mid, a, b) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

const char* describe(Undefined why) {
  switch (why) {
    case Undefined::none:
      return "";
    case Undefined::no_draws:
      return "no draws";
    case Undefined::single_draw:
      return "a single draw";
    case Undefined::non_finite:
      return "non-finite draws (NaN or Inf)";
    case Undefined::constant:
      return "constant draws";
    case Undefined::few_draws_rhat:
      return "fewer than 4 draws per chain";
    case Undefined::few_draws_ess:
      return "fewer than 6 draws per chain";
    case Undefined::constant_folded:
      return "constant folded draws |x - median|";
    case Undefined::constant_indicator:
      return "constant quantile indicator x <= q (ties)";
    case Undefined::constant_squares:
      return "constant squared deviations (x - mean)^2";
    case Undefined::infinite_rhat:
      return "infinite (each split chain is constant, the chains differ)";
  }
  return "undefined";
}

const char* stat_name(Stat stat) {
  static constexpr const char* kNames[kStatCount] = {
      "mean",     "sd",        "q05",     "median",   "q95",         "rhat",    "ess_bulk",
      "ess_tail", "mcse_mean", "mcse_sd", "mcse_q05", "mcse_median", "mcse_q95"};
  return kNames[static_cast<std::size_t>(stat)];
}

double ConvergenceSummary::value(Stat stat) const {
  return this->*kFields[static_cast<std::size_t>(stat)];
}

double effective_sample_size(const Matrix& c) {
  return ess_rows(c).v;
}

NestedRhat nested_rhat(const Matrix& x, Index K) {
  NestedRhat out;
  const Index chains = x.rows(), N = x.cols();
  if (K < 2 || chains % K != 0) {
    out.reason = K < 2 ? "needs at least 2 superchains"
                       : "the number of superchains must divide the number of chains";
    return out;
  }
  if (N == 0) {
    out.why = Undefined::no_draws;
    return out;
  }
  if (!x.allFinite()) {
    out.why = Undefined::non_finite;
    return out;
  }
  // posterior's should_return_NA: all draws equal (one constant chain among others is not NA).
  if (x.maxCoeff() - x.minCoeff() < std::numeric_limits<double>::epsilon()) {
    out.why = Undefined::constant;
    return out;
  }
  const Index M = chains / K;
  Vector chain_mean(chains), chain_var(chains);
  for (Index c = 0; c < chains; ++c) {
    const Vector row = x.row(c).transpose();
    chain_mean[c] = r_mean(row.data(), N);
    chain_var[c] = N > 1 ? r_var(row.data(), N) : 0.0;
  }
  Vector super_mean(K);
  double within = 0;
  for (Index k = 0; k < K; ++k) {
    const Matrix block = x.middleRows(k * M, M);
    const Vector all = Eigen::Map<const Vector>(Matrix(block.transpose()).data(), M * N);
    super_mean[k] = r_mean(all.data(), M * N);
    const double between_chains = M > 1 ? r_var(chain_mean.data() + k * M, M) : 0.0;
    within += between_chains + r_mean(chain_var.data() + k * M, M);
  }
  within /= static_cast<double>(K);
  const double between = r_var(super_mean.data(), K);
  if (!(within > 0)) {
    out.why = Undefined::constant;
    return out;
  }
  out.value = std::sqrt(1.0 + between / within);
  return out;
}

double split_rhat_plain(const Matrix& c) {
  return rhat_rows(split(c), Undefined::constant).v;
}

ConvergenceSummary summarize(const Matrix& x) {
  ConvergenceSummary s;
  auto set = [&](Stat stat, Value v) {
    s.*kFields[static_cast<std::size_t>(stat)] = v.v;
    s.undefined[static_cast<std::size_t>(stat)] = v.why;
  };
  const Index total = x.size();
  if (total == 0) {
    s.undefined.fill(Undefined::no_draws);
    return s;
  }
  set(Stat::mean, {r_mean(x.data(), total), Undefined::none});
  set(Stat::sd, total < 2 ? undefined(Undefined::single_draw)
                          : Value{std::sqrt(r_var(x.data(), total)), Undefined::none});
  std::vector<double> sorted;
  if (x.hasNaN()) {  // R's quantile2: NA
    for (Stat q : {Stat::q05, Stat::median, Stat::q95}) set(q, undefined(Undefined::non_finite));
  } else {
    sorted.assign(x.data(), x.data() + total);
    std::sort(sorted.begin(), sorted.end());
    set(Stat::q05, {quantile7(sorted, 0.05), Undefined::none});
    set(Stat::median, {quantile7(sorted, 0.5), Undefined::none});
    set(Stat::q95, {quantile7(sorted, 0.95), Undefined::none});
  }

  set(Stat::rhat, rhat_of(x));
  const Matrix sp = split(x);
  set(Stat::ess_bulk, ess_rows(z_scale(sp)));
  // Each ess_quantile returns before it reads `sorted` when x has a NaN or Inf draw.
  const Value e05 = ess_quantile(x, sorted, 0.05), e50 = ess_quantile(x, sorted, 0.5),
              e95 = ess_quantile(x, sorted, 0.95);
  set(Stat::ess_tail, std::isnan(e05.v)   ? e05
                      : std::isnan(e95.v) ? e95
                                          : Value{std::min(e05.v, e95.v), Undefined::none});

  // MCSE of the mean: sd over the √ESS of the split draws (not rank-normalised).
  const Value ess_mean = ess_rows(sp);
  set(Stat::mcse_mean, std::isnan(ess_mean.v) ? ess_mean
                       : std::isnan(s.sd)     ? undefined(s.why(Stat::sd))
                                          : Value{s.sd / std::sqrt(ess_mean.v), Undefined::none});
  // MCSE of the sd (posterior 1.4): delta method on the squared deviations.
  {
    const Matrix centred = (x.array() - s.mean).matrix();
    const Matrix squares = centred.array().square().matrix();
    Value ess = ess_rows(split(squares));
    if (ess.why == Undefined::constant && should_return_na(x) != Undefined::constant)
      ess.why = Undefined::constant_squares;
    if (std::isnan(ess.v)) {
      set(Stat::mcse_sd, ess);
    } else {
      const Matrix fourth = centred.array().pow(4.0).matrix();
      const double e_var = r_mean(squares.data(), total);
      const double var_var = (r_mean(fourth.data(), total) - e_var * e_var) / ess.v;
      const double var_sd = var_var / e_var / 4;
      set(Stat::mcse_sd, {std::sqrt(var_sd), Undefined::none});
    }
  }
  set(Stat::mcse_q05, mcse_quantile(sorted, 0.05, e05));
  set(Stat::mcse_median, mcse_quantile(sorted, 0.5, e50));
  set(Stat::mcse_q95, mcse_quantile(sorted, 0.95, e95));

  // Whatever else is not finite (±Inf means of Inf draws, overflow) says so too.
  for (int k = 0; k < kStatCount; ++k) {
    const auto i = static_cast<std::size_t>(k);
    if (!std::isfinite(s.*kFields[i]) && s.undefined[i] == Undefined::none)
      s.undefined[i] = Undefined::non_finite;
  }
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
