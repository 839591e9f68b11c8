// Closed-form score matching for the Gaussian family (Hyvärinen 2005, §3.1).
// With s(x) = −P(x−μ) the ISM objective is J(μ, P) = E[½‖P(x−μ)‖²] − tr P. Setting ∂J/∂μ = 0
// gives μ = E[x]; ∂J/∂P = 0 gives ½(PS + SP) = I, i.e. P = S⁻¹ with S the 1/n covariance: score
// matching equals the MLE. A ridge penalty ½λ‖P‖²_F gives ½(PS+SP) + λP = I, solved by
// P = (S + λI)⁻¹.
//
// Statistics are one pass of count, Σ(x−c) and Σ(x−c)(x−c)ᵀ about a reference point c shared by
// all ranks (the first data row): shifting keeps the one-pass covariance accurate when the data's
// spread is small against its magnitude. Per chunk the cross product is one GEMM; chunks combine
// in a fixed order (parallel::deterministic_reduce), ranks by a single allreduce of pack().
#pragma once
#include <string>
#include <vector>

#include "scorematch/core/long_accumulator.hpp"
#include "scorematch/core/types.hpp"

namespace scorematch {

struct GaussianStats {
  double count = 0.0;
  Vector sum;    // Σ (x − c)
  Matrix cross;  // Σ (x − c)(x − c)ᵀ

  static GaussianStats zeros(Index dim);
  void add(const GaussianStats& other);
  // Flat buffer [count, sum, cross] for an allreduce, and back.
  std::vector<double> pack() const;
  static GaussianStats unpack(const std::vector<double>& buffer, Index dim);
};

// Statistics of the rows of x about `reference`, threaded and deterministic.
GaussianStats accumulate_gaussian_stats(const Matrix& x, const Vector& reference);
// The same as an exact sum of 1024-row chunk partials (pack() layout), for a reduction over ranks
// that is bitwise for any decomposition into whole chunks (parallel::exact_reduce).
ExactVectorSum gaussian_stats_partials(const Matrix& x, const Vector& reference);
inline constexpr Index kGaussianStatsChunk = 1024;
// Plain row-by-row twin, for tests of the fast version.
GaussianStats accumulate_gaussian_stats_reference(const Matrix& x, const Vector& reference);

struct GaussianFit {
  Vector mean;
  Matrix covariance;  // 1/n sample covariance S
  Matrix precision;   // (S + λI)⁻¹
};

// Throws Error naming the column for a constant column, or for linearly dependent columns,
// suggesting --ridge. column_names may be empty (columns are then numbered from 1).
GaussianFit solve_gaussian_sm(const GaussianStats& stats, const Vector& reference, double ridge,
                              const std::vector<std::string>& column_names);

}  // namespace scorematch
