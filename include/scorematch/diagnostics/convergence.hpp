// MCMC convergence diagnostics of Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021),
// "Rank-normalization, folding, and localization: an improved R-hat for assessing convergence of
// MCMC", Bayesian Analysis 16(2), computed exactly as Stan's R package posterior 1.4 does
// (R/convergence.R: .ess, .rhat, autocovariance, .ess_quantile, mcse_*, should_return_NA), so that
// every value equals posterior's to 1e-8 relative (tests/reference/posterior/).
//
// Draws of one quantity are an M × N matrix x: row m = chain m, column n = iteration; S = MN.
//   split(x): each chain cut into halves, the first ⌊N/2⌋ and the last ⌊N/2⌋ draws (the middle
//     draw of an odd N is dropped): 2M chains of ⌊N/2⌋. With N = 1 nothing is split.
//   z(x) (rank normalisation): pooled ranks r (ties averaged) → Φ⁻¹((r − 3/8)/(S' + 1/4)), S' the
//     number of draws passed in.
//   fold(x) = |x − median(x)|.
//   R̂(x) of M' chains of N' draws: √((B/W + N' − 1)/N'), B = N'·var(chain means),
//     W = mean of the chain variances (both ÷ (count − 1)).
//   rhat = max(R̂(z(split(x))), R̂(z(split(fold(x))))).
//   ESS(x) of M' chains of N' draws (posterior:::.ess): γ̂_t the mean over chains of the biased
//     autocovariance at lag t (γ̂_0 = var·(N'−1)/N'), W = γ̂_0·N'/(N'−1),
//     var⁺ = W(N'−1)/N' + var(chain means) (M' > 1), ρ̂_0 = 1, ρ̂_t = 1 − (W − γ̂_t)/var⁺.
//     Geyer's initial positive sequence: the pairs P_k = ρ̂_{2k} + ρ̂_{2k+1} are taken while
//     P_k > 0 and 2k < N' − 5 (lag cap); a last pair with P < 0 is dropped, but its even term
//     ρ̂_T (T = the last even lag reached) is kept when ρ̂_T > 0. Geyer's initial monotone
//     sequence: a pair larger than the one before it is replaced by that one's average (each of
//     the two terms). τ̂ = −1 + 2 Σ_{t<T} ρ̂_t + ρ̂_T (for T = 0 posterior's R sum rho[1:0] is ρ̂_0,
//     so τ̂ = 2), τ̂ ≥ 1/log10(M'N') (ESS ≤ M'N'·log10(M'N')), ESS = M'N'/τ̂.
//   ess_bulk = ESS(z(split(x))); ess_mean = ESS(split(x)).
//   ess_q(p) = ESS(split(1[x ≤ q_p])), q_p the type-7 quantile of all S draws;
//     ess_tail = min(ess_q(0.05), ess_q(0.95)).
//   mcse_mean = sd(x)/√ess_mean.
//   mcse_sd (posterior 1.4): c = x − mean(x), E = mean(c²), ess = ESS(split(c²)),
//     mcse_sd = √((mean(c⁴) − E²)/ess / E / 4) (delta method: Var(sd) ≈ Var(c²)/(4E·ess)).
//   mcse_q(p): a_{1,2} = Beta⁻¹(0.1586553, 0.8413447; ess_q(p)·p + 1, ess_q(p)·(1 − p) + 1), x_(i)
//     the sorted draws: (x_(min(⌈a₂S⌉, S)) − x_(max(⌊a₁S⌋, 1)))/2.
//   q05, median, q95: type-7 quantiles of all S draws (R quantile(), posterior::quantile2).
// Undefined statistics are NaN, never a substitute number, and `undefined` says why; they follow
// posterior's NA rules: a statistic is NA when its input has a NaN or ±Inf draw or is constant
// (max − min < DBL_EPSILON, an absolute tolerance, as posterior's is_constant), an ESS needs split
// chains of ≥ 3 draws (N ≥ 6) and R-hat split chains of ≥ 2 draws (N ≥ 4), and a min or max
// with an NA is NA. Two deliberate differences from posterior 1.4: for N = 2 or 3 with M ≥ 2
// chains, posterior's .split_chains transposes the split matrix (x[1, ] drops to a vector) and
// reports R-hat/ESS of that wrong shape: here they are NaN (too few draws); when every split
// chain is constant but the chains differ, R-hat is +Inf here (posterior reports ~1e16 from the
// rounding error of a zero variance).
#pragma once
#include <array>
#include <cstdint>
#include <limits>

#include "scorematch/core/types.hpp"

namespace scorematch::diagnostics {

// Autocovariance at lags 0 … n−1 of one series (biased, divides by n), by FFT: O(n log n).
Vector autocovariance(const Vector& x);
// Autocorrelation (autocovariance / lag-0 value).
Vector autocorrelation(const Vector& x);

// posterior:::.ess of M chains of N draws (rows = chains), without splitting or rank
// normalisation; NaN for N < 3, non-finite or constant draws.
double effective_sample_size(const Matrix& chains);
// Split R-hat without rank normalisation (posterior::rhat_basic, the classic potential scale
// reduction factor); NaN where posterior returns NA.
double split_rhat_plain(const Matrix& chains);

// Why a statistic is not a finite number.
enum class Undefined : std::uint8_t {
  none = 0,
  no_draws,            // no draws at all
  single_draw,         // one draw in all: no variance
  non_finite,          // a draw (or a derived value) is NaN or ±Inf
  constant,            // all draws equal (max − min < DBL_EPSILON)
  few_draws_rhat,      // fewer than 4 draws per chain: split chains of < 2 draws
  few_draws_ess,       // fewer than 6 draws per chain: split chains of < 3 draws
  constant_folded,     // |x − median| is constant (e.g. two values in equal numbers)
  constant_indicator,  // the quantile indicator 1[x ≤ q] is constant (e.g. ties at the max)
  constant_squares,    // the squared deviations (x − mean)² are constant (within DBL_EPSILON)
  infinite_rhat,       // every split chain is constant but the chains differ: R-hat = +Inf
};
// A short plain-words reason, e.g. "constant draws".
const char* describe(Undefined why);

// The statistics of a ConvergenceSummary, in JSON/table order.
enum class Stat : std::uint8_t {
  mean,
  sd,
  q05,
  median,
  q95,
  rhat,
  ess_bulk,
  ess_tail,
  mcse_mean,
  mcse_sd,
  mcse_q05,
  mcse_median,
  mcse_q95,
};
inline constexpr int kStatCount = 13;
// The statistic's key: "mean", "sd", "q05", …, "mcse_q95".
const char* stat_name(Stat stat);

struct ConvergenceSummary {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  double mean = kNaN, sd = kNaN, q05 = kNaN, median = kNaN, q95 = kNaN;
  double rhat = kNaN, ess_bulk = kNaN, ess_tail = kNaN;
  double mcse_mean = kNaN, mcse_sd = kNaN, mcse_q05 = kNaN, mcse_median = kNaN, mcse_q95 = kNaN;
  // Why each statistic (indexed by Stat) is not a finite number; none exactly where it is finite.
  std::array<Undefined, kStatCount> undefined{};

  double value(Stat stat) const;
  Undefined why(Stat stat) const { return undefined[static_cast<std::size_t>(stat)]; }
};
// All statistics of M chains of N draws; never throws (undefined statistics are NaN).
ConvergenceSummary summarize(const Matrix& chains);

// Nested R-hat (Margossian, Hoffman, Sountsov, Riou-Durand, Vehtari & Gelman 2024, "Nested R̂:
// assessing the convergence of Markov chain Monte Carlo when running many short chains", Bayesian
// Analysis; eqs. 4–8, as posterior's rhat_nested computes it). The M·K chains (rows) form K
// superchains of M consecutive chains, each superchain started from one point. With chain means
// x̄_mk, chain variances s²_mk (÷ (N − 1)), superchain means x̄_k:
//   B̂_ν = var_k(x̄_k)                      (between superchains, ÷ (K − 1))
//   Ŵ_ν = mean_k( var_m(x̄_mk) + mean_m(s²_mk) )   (within; var_m = 0 for M = 1, s² = 0 for N = 1)
//   nR̂ = √(1 + B̂_ν / Ŵ_ν)   (≥ 1 by construction).
// Undefined (NaN, `why` set) for K < 2, K not dividing the chains, a non-finite draw, or all
// draws equal (posterior's NA rules; one draw per chain is fine: the chain variances are 0).
struct NestedRhat {
  double value = std::numeric_limits<double>::quiet_NaN();
  Undefined why = Undefined::none;
  const char* reason = "";  // for the cases Undefined does not name (superchain layout)
};
NestedRhat nested_rhat(const Matrix& chains, Index superchains);

// Φ⁻¹(p) for p ∈ (0, 1): Acklam's rational approximation plus one Halley step (|error| < 1e-15).
double normal_quantile(double p);
// The p-quantile of the Beta(a, b) distribution (R's qbeta), by bisection on the regularised
// incomplete beta function (continued fraction); p ∈ [0, 1], a, b > 0.
double beta_quantile(double p, double a, double b);

}  // namespace scorematch::diagnostics
