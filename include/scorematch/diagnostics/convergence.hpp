// MCMC convergence diagnostics of Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021),
// "Rank-normalization, folding, and localization: an improved R-hat", as in Stan/posterior.
// Draws of one quantity are an M × N matrix: row m = chain m, column n = iteration.
//   split: each chain is cut into two halves (2M chains of ⌊N/2⌋), which exposes trends.
//   rank-normalised: pooled ranks r (ties averaged) mapped by z = Φ⁻¹((r − 3/8)/(S + 1/4)).
//   R-hat = √(var⁺/W), var⁺ = (N−1)/N·W + B/N, W the mean within-chain variance, B/N the
//           variance of the chain means; reported as max(bulk R-hat, folded R-hat on |x − median|).
//   ESS = MN/τ, τ = −1 + 2Σ_k P_k with Geyer's initial monotone sequence of pair sums
//         P_k = ρ_{2k} + ρ_{2k+1} of the combined autocorrelation ρ_t = 1 − (W − mean acov_t)/var⁺.
//   bulk-ESS on split rank-normalised draws; tail-ESS = min over the 5% and 95% quantile
//   indicators; MCSE of the mean = sd/√ESS of the split draws.
#pragma once
#include "scorematch/core/types.hpp"

namespace scorematch::diagnostics {

// Autocovariance at lags 0 … n−1 of one series (biased, divides by n), by FFT: O(n log n).
Vector autocovariance(const Vector& x);
// Autocorrelation (autocovariance / lag-0 value).
Vector autocorrelation(const Vector& x);

// The ESS of M chains of N draws (rows = chains), without splitting or rank normalisation.
double effective_sample_size(const Matrix& chains);
// Split R-hat without rank normalisation (the classic potential scale reduction factor).
double split_rhat_plain(const Matrix& chains);

struct ConvergenceSummary {
  double mean = 0, sd = 0, q05 = 0, median = 0, q95 = 0;
  double rhat = 0, ess_bulk = 0, ess_tail = 0, mcse_mean = 0;
};
ConvergenceSummary summarize(const Matrix& chains);

// Φ⁻¹(p) for p ∈ (0, 1): Acklam's rational approximation plus one Halley step (|error| < 1e-15).
double normal_quantile(double p);

}  // namespace scorematch::diagnostics
