// Pieces the two NCE estimators share (estimators/polynomial_nce: the polynomial family solved
// by Newton; objectives/nce.cpp: energy networks trained by SGD): the Philox purpose of the noise
// draws and the numerically stable softplus of the logistic loss,
//   −log σ(η) = softplus(−η),   −log(1 − σ(η)) = softplus(η),
//   softplus(a) = max(a, 0) + log1p(e^{−|a|})   (no overflow for large |a|).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace scorematch {

inline constexpr std::uint64_t kNceNoiseTag = 31;

inline double softplus(double a) {
  return std::max(a, 0.0) + std::log1p(std::exp(-std::fabs(a)));
}

}  // namespace scorematch
