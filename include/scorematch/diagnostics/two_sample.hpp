// Distributed pair statistics of draws, over the collective seam (core/collective.hpp): every
// rank holds the same n × d draws x (and reference draws y); pair blocks of kPairBlock rows are
// split over ranks and their partial sums combined in block order (block_sum), so each value is
// the same bits for any number of ranks.
//   KSD² (V-statistic, IMQ kernel; Gorham & Mackey 2017): (1/n²) Σ_ij u_p(x_i, x_j)
//   energy distance (Székely & Rizzo 2013): 2 E|x − y| − E|x − x'| − E|y − y'|
//   MMD² (IMQ kernel; Gretton et al. 2012): E k(x, x') + E k(y, y') − 2 E k(x, y)
// Each is undefined (NaN) when a squared distance between draws exceeds the float64 range: the
// kernels would read 0 there and a discrepancy would read as a perfect fit.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>

#include "scorematch/core/collective.hpp"
#include "scorematch/models/score_model.hpp"

namespace scorematch::diagnostics {

// True when ‖a_i − b_j‖² may overflow float64 for some pair.
bool pair_distances_overflow(const Matrix& a, const Matrix& b);

// KSD² of x under the model's score; the scores are evaluated in shares over ranks. Collective:
// throws Error on every rank when a score is NaN or Inf.
double kernel_stein_discrepancy2(const Collective& collective, const Matrix& x,
                                 const ScoreModel& model);

// Goodness-of-fit test of H₀: x ~ p (Liu, Lee & Jordan 2016; Chwialkowski, Strathmann & Gretton
// 2016). Statistic: the KSD² U-statistic U = Σ_{i≠j} u(x_i, x_j) / (n(n − 1)) (IMQ Stein kernel of
// diagnostics/stein.hpp). Null distribution by the wild bootstrap: replicates
// U*_b = Σ_{i≠j} w_ib u(x_i, x_j) w_jb / (n(n − 1)) with i.i.d. Rademacher w (Philox keyed by
// (seed, replicate)), p = (1 + #{U*_b ≥ U}) / (1 + B). The i.i.d. multipliers assume independent
// draws: thin MCMC output to about its effective sample size first (Chwialkowski et al. use
// autocorrelated multipliers for chains). Cost O(n² B); bitwise for any ranks and threads.
inline constexpr std::uint64_t kKsdBootstrapTag = 51;
struct KsdTest {
  double statistic = NAN, p_value = NAN;  // NaN with `undefined` set for n < 2
  Index bootstrap = 0, rows = 0;
  std::string undefined;
};
KsdTest ksd_test(const Collective& collective, const Matrix& x, const ScoreModel& model,
                 Index bootstrap, std::uint64_t seed);

struct TwoSample {
  double energy_distance = 0.0;
  double mmd2_imq = 0.0;
};
TwoSample two_sample_statistics(const Collective& collective, const Matrix& x, const Matrix& y);

}  // namespace scorematch::diagnostics
