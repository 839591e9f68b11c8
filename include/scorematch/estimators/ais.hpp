// Normalising constants by annealed importance sampling (Neal 2001, "Annealed importance
// sampling", Statistics and Computing 11:125–139).
//
// For an energy model p(x) = e^{−φ(x)} / Z with Z = ∫ e^{−φ(x)} dx (data units), AIS moves C
// independent chains along the geometric path between a normalised Gaussian base q₀ = e^{−φ₀}
// and the model,
//   π_β(x) ∝ exp(−U_β(x)),   U_β = (1 − β) φ₀ + β φ,   0 = β₀ < β₁ < … < β_T = 1,
// starting from exact draws x₀ ~ q₀. Chain c accumulates the log-weight
//   log w_c = Σ_{t=1}^{T} (β_t − β_{t−1}) (φ₀(x_{t−1}) − φ(x_{t−1})),
// where x_t follows K MALA transitions that leave π_{β_t} invariant (preconditioned by the base's
// diagonal covariance; see sampling/mala.cpp for the kernel's formula). Then E[w] = Z exactly and
//   log Ẑ = log (1/C) Σ_c w_c            (computed as max + log-mean-exp),
// a consistent estimate whose expectation is a lower bound on log Z (Jensen; Grosse, Ghahramani
// & Adams 2015). Its standard error by the delta method: se(log Ẑ) ≈ sd(w) / (√C · mean(w)), and
// the importance-weight ESS = (Σw)² / Σw² (Kish) says how much of C is effective.
//
// Step sizes. AIS is exact for any fixed sequence of kernels, but an adapted step would make a
// chain's kernel depend on its own past. So the MALA step α_t of each temperature is tuned first
// on a separate set of tuning chains (their own Philox streams): after each temperature the mean
// acceptance probability of all tuning chains (reduced over ranks in block order) moves log α
// toward the target acceptance, log α_{t+1} = log α_t + (ā_t − a*). The main chains then run with
// the recorded α_t, which depend only on the tuning chains.
//
// Schedule: "sigmoid" (Grosse, Maddison & Salakhutdinov 2013: β̃_t = σ(δ(2t/T − 1)), δ = 4,
// rescaled to [0, 1]; dense near both ends where the densities change fastest) or "linear".
//
// Reproducible: chain c's start and transition noise come from RandomStream(key, c, step), chains
// are cut into global blocks of kChainBlock and ranks own whole blocks, and the weights are
// gathered by index before the log-mean-exp: the result is bitwise identical for any number of
// ranks and threads.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "scorematch/core/collective.hpp"
#include "scorematch/models/score_model.hpp"
#include "scorematch/sampling/tempered_mala.hpp"  // DiagonalGaussian, the MALA kernel

namespace scorematch {

struct AisSettings {
  Index chains = 1024;
  Index temps = 1000;  // T: the number of β steps from 0 to 1
  Index steps_per_temp = 1;
  std::string schedule = "sigmoid";  // sigmoid | linear
  Index tune_chains = 256;           // 0: no tuning, every temperature uses initial_step
  double initial_step = 0.5;         // MALA α in the base's standardised units
  double target_accept = 0.574;      // Roberts & Rosenthal 1998
  std::uint64_t seed = 0;
};

// β₀ = 0, …, β_T = 1 (length T + 1). Throws Error for an unknown kind or T < 1.
std::vector<double> ais_schedule(const std::string& kind, Index temps);

// log of the mean of exp(log_w) with its delta-method standard error and the Kish ESS. The SE is
// undefined (NaN, with a reason) for fewer than 2 weights; log_mean is +inf/NaN when a weight
// overflows (reason set).
struct LogMeanExp {
  double log_mean = 0, se = 0, ess = 0;
  std::string undefined;  // non-empty: why se (or the estimate) is not defined
};
LogMeanExp log_mean_exp(const Vector& log_w);

struct AisResult {
  LogMeanExp log_z;    // log Ẑ, its SE and the weights' ESS
  Vector log_weights;  // every chain's log w, in chain order (the same on every rank)
  Vector step_size;    // α_t used at temperature t = 1 … T − 1 (index t − 1)
  Vector acceptance;   // mean acceptance probability of the main chains at each temperature
  std::vector<double> betas;
};

// Runs AIS for `model` (it must have an energy) from `base`, chains sharded over the ranks of
// `collective` and the local blocks over threads. Throws Error for invalid settings.
AisResult ais_log_z(const Collective& collective, const ScoreModel& model,
                    const DiagonalGaussian& base, const AisSettings& settings);

}  // namespace scorematch
