// Division-free elementwise exp, log1p and reciprocal on the narrow ranges the softplus needs.
//
// Why: Eigen 3.4's double exp and every packet division end in a vdivpd, which on AVX-512 costs
// about 16 cycles per 8 values (one divider, shared by the core). The softplus used three of them
// per value (exp, log, 1/(1+e)), and it dominated training and sampler steps of small networks
// (docs/PERFORMANCE.md).
// These kernels use FMAs only and vectorise as plain loops / Eigen array expressions.
// Accuracy is checked against libm in tests/test_vector_math.cpp.
// Also here: squared_norm, the losses' vectorised sum of squares in double (see its comment).
#pragma once
#include <Eigen/Core>
#include <algorithm>
#include <bit>
#include <cstdint>
#include <iterator>

#include "scorematch/core/types.hpp"

namespace scorematch::vector_math {

namespace detail {
// 1/j! (j ≤ 13: j! is exact in double, so each value is correctly rounded at compile time).
constexpr double inverse_factorial(int j) {
  double f = 1.0;
  for (int i = 2; i <= j; ++i) f *= i;
  return 1.0 / f;
}
}  // namespace detail

// Per-precision constants of the kernels below.
template <class T>
struct Constants;
template <>
struct Constants<double> {
  using Bits = std::uint64_t;
  static constexpr int kMantissa = 52, kBias = 1023;
  static constexpr double kShifter = 0x1.8p52, kLog2e = 0x1.71547652b82fep0;
  static constexpr double kLn2Hi = 0x1.62e42feep-1, kLn2Lo = 0x1.a39ef35793c76p-33;  // fdlibm
  static constexpr double kExpFloor = -708.0;  // e^{−708} ≈ 3e-308: 2^k stays normal
  static constexpr int kExpDegree = 13;        // (½ln2)¹⁴/14! < 5e-18
  // q(e) = (log1p(e) − e)/e² on [0, 1], highest degree first: degree 21, mpmath.chebyfit with 50
  // digits, truncation error 1.6e-18.
  static constexpr double kLog1pQ[] = {
      0x1.f9f2cb626decdp-17, -0x1.7d6fb5a5e2a16p-13, 0x1.11825c4b06ef4p-10, -0x1.f2aeed774010bp-9,
      0x1.46a9e3a1c84f5p-7,  -0x1.4a9fa99293e99p-6,  0x1.109dfa70fe734p-5,  -0x1.7f5ee6f20c861p-5,
      0x1.dff188f2e1f27p-5,  -0x1.16800aae65d08p-4,  0x1.363108bc954ffp-4,  -0x1.53f717a9a167dp-4,
      0x1.740f1739f111bp-4,  -0x1.998c06828c139p-4,  0x1.c71aa3aa16f49p-4,  -0x1.ffffd26b3de15p-4,
      0x1.2492478aafb14p-3,  -0x1.55555541f9be4p-3,  0x1.9999999909736p-3,  -0x1.fffffffffdc48p-3,
      0x1.5555555555539p-2,  -0x1.0000000000000p-1};
};
template <>
struct Constants<float> {
  using Bits = std::uint32_t;
  static constexpr int kMantissa = 23, kBias = 127;
  static constexpr float kShifter = 0x1.8p23f, kLog2e = 0x1.715476p0f;
  static constexpr float kLn2Hi = 0x1.62e4p-1f, kLn2Lo = 0x1.7f7d1cp-20f;  // hi: 16 bits
  static constexpr float kExpFloor = -87.0f;  // e^{−87} ≈ 1.6e-38 > FLT_MIN
  static constexpr int kExpDegree = 7;        // (½ln2)⁸/8! < 6e-9
  // q(e) as above in float: degree 9, truncation error 4.7e-9.
  static constexpr float kLog1pQ[] = {
      0x1.6f3782p-9f,  -0x1.198c0ap-6f, 0x1.93f282p-5f,  -0x1.7659b4p-4f, 0x1.0aec5ep-3f,
      -0x1.4f2888p-3f, 0x1.98b6ap-3f,   -0x1.ffef04p-3f, 0x1.555514p-2f,  -0x1.0p-1f};
};

// out[i] = e^{z[i]} for z ≤ 0. Values below kExpFloor are clamped to it; NaN stays NaN.
//   k = rint(z/ln2) by adding the shifter 1.5·2^p (round to nearest; the sum's low bits hold k),
//   r = z − k ln2 with ln2 = ln2_hi + ln2_lo (Cody & Waite 1980; k ln2_hi is exact), |r| ≤ ½ln2,
//   e^r by its Taylor polynomial (degree in Constants), and 2^k written straight into the
//   exponent field: bits(2^k) = (k + bias)·2^p, which stays a normal number above kExpFloor.
// z and out may be the same buffer.
template <class T>
void exp_nonpositive(const T* z, T* out, Index m) {
  using C = Constants<T>;
  using Bits = typename C::Bits;
  for (Index i = 0; i < m; ++i) {
    // std::max returns its first argument unless it compares below: NaN passes through.
    const T x = std::max(z[i], C::kExpFloor);
    const T shifted = x * C::kLog2e + C::kShifter;
    const T k = shifted - C::kShifter;
    const T r = (x - k * C::kLn2Hi) - k * C::kLn2Lo;
    T p = static_cast<T>(detail::inverse_factorial(C::kExpDegree));
#pragma GCC unroll 16  // fully, so that the outer loop vectorises
    for (int j = C::kExpDegree - 1; j >= 0; --j)
      p = p * r + static_cast<T>(detail::inverse_factorial(j));
    // The shifter's bits vanish under the shift: its low bits are those of k.
    const Bits scale = (std::bit_cast<Bits>(shifted) + Bits(C::kBias)) << C::kMantissa;
    out[i] = p * std::bit_cast<T>(scale);
  }
}

// out[i] = log(1 + e[i]) for e ∈ [0, 1], division-free (Eigen's double log ends in a division):
//   log1p(e) = e + e²·q(e),  q(e) = (log1p(e) − e)/e² ∈ [−½, −0.307],
// q a near-minimax polynomial (Constants). The exact leading term e keeps the rounding small:
// ≤ 1.2 ulp (double) and 1.7 ulp (float) measured against 50-digit references.
template <class T>
void log1p_unit_interval(const T* e, T* out, Index m) {
  using C = Constants<T>;
  constexpr int kTerms = static_cast<int>(std::size(C::kLog1pQ));
  for (Index i = 0; i < m; ++i) {
    const T x = e[i];
    T p = C::kLog1pQ[0];
#pragma GCC unroll 24  // fully, so that the outer loop vectorises
    for (int j = 1; j < kTerms; ++j) p = p * x + C::kLog1pQ[j];
    out[i] = (x * x) * p + x;
  }
}

// 1/u for u = 1 + e with e ∈ [0, 1] (given both), as an Eigen array expression evaluated into r.
// A cubic minimax guess in e (relative error < 1.8e-3, fitted by Remez), then Newton steps
// r ← r + r(1 − u r), each squaring the relative error: 1.8e-3 → 3e-6 → 9e-12 → 8e-23, so three
// steps for double and two for float reach the rounding level.
template <class T, class ArrayE, class ArrayR>
void reciprocal_one_to_two(const ArrayE& u, const ArrayE& e, ArrayR& r) {
  r = ((T(-0x1.c65285fd56cdbp-3) * e + T(0x1.54bde47e0119cp-1)) * e + T(-0x1.e2b7ae5d2c391p-1)) *
          e +
      T(0x1.ff1cd6bd01a58p-1);
  constexpr int kSteps = sizeof(T) == sizeof(double) ? 3 : 2;
  for (int step = 0; step < kSteps; ++step) r += r * (T(1) - u * r);
}

// Σ v[i]² of n contiguous values in double (the losses are summed in double for either precision).
// Eight partial sums in a fixed order, so the loop vectorises and the result depends only on v:
// Eigen's cast<double>().squaredNorm() of float data ran a scalar convert-and-FMA chain,
// latency-bound at ~4 cycles per value.
template <class T>
double squared_norm(const T* v, Index n) {
  constexpr int kLanes = 8;
  double part[kLanes] = {};
  Index i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) {
      const auto x = static_cast<double>(v[i + k]);
      part[k] += x * x;
    }
  double tail = 0.0;
  for (; i < n; ++i) tail += static_cast<double>(v[i]) * static_cast<double>(v[i]);
  return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7])) +
         tail;
}

}  // namespace scorematch::vector_math
