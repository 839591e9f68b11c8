// The Box–Muller transform (Box & Muller 1958) with its own log and sincos, written so that the
// same source gives bitwise the same result in scalar code (RandomStream::normal) and in the
// vectorised batch fill (core/random_fill.hpp): straight-line arithmetic with selects instead of
// branches and no libm calls, whose results could differ from a SIMD version by an ulp.
//   z0 = √(−2 log u1) cos(2π u2),  z1 = √(−2 log u1) sin(2π u2),  u1 ∈ (0, 1], u2 ∈ [0, 1).
// Accuracy against libm (tests/test_random_fill.cpp): log ≤ 1 ulp, sin/cos ≤ 1 ulp + the
// rounding of the argument.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>

namespace scorematch::box_muller {

// log(u) for a positive normal double u (the uniforms here are ≥ 2⁻⁵⁴). fdlibm's e_log.c in the
// branch-free form of musl (MIT): u = 2^k (1 + f) with 1 + f ∈ [√½, √2), s = f/(2 + f),
//   log(1 + f) = f − ½f² + s(½f² + R(s²)),  R = Lg1 s² + … + Lg7 s¹⁴  (|error| < 2^−58.45),
// and k ln2 split into ln2_hi (exact products) and ln2_lo.
inline double log_positive(double u) {
  constexpr double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  constexpr double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
                   Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
                   Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                   Lg7 = 1.479819860511658591e-01;
  // Shift the mantissa so that the exponent field counts from √½: k = exponent of u·√2.
  std::uint64_t ix =
      std::bit_cast<std::uint64_t>(u) + (0x3ff0000000000000ull - 0x3fe6a09e00000000ull);
  const double dk = static_cast<double>(static_cast<std::int64_t>(ix >> 52) - 0x3ff);
  ix = (ix & 0x000fffffffffffffull) + 0x3fe6a09e00000000ull;
  const double f = std::bit_cast<double>(ix) - 1.0;
  const double hfsq = 0.5 * f * f;
  const double s = f / (2.0 + f);
  const double z = s * s, w = z * z;
  const double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
  const double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  const double R = t2 + t1;
  return s * (hfsq + R) + dk * ln2_lo - hfsq + f + dk * ln2_hi;
}

// The quadrant's swap and signs from the kernels' sin x and cos x, x = 2πt − nπ/2 (exact selects).
template <class T, class I>
inline void apply_quadrant(I n, T sin_x, T cos_x, T& sin_out, T& cos_out) {
  const T a = (n & 1) ? sin_x : cos_x;  // cos θ up to sign
  const T b = (n & 1) ? cos_x : sin_x;  // sin θ up to sign
  cos_out = ((n + 1) & 2) ? -a : a;
  sin_out = (n & 2) ? -b : b;
}

// sin(2πt) and cos(2πt) for t ∈ [0, 1]. Reduction by quarter turns is exact: q = rint(4t),
// x = (π/2)(4t − q) ∈ [−π/4, π/4]; then FreeBSD msun's k_sin.c / k_cos.c kernels (minimax on
// [−π/4, π/4], |error| < 2^−58; the cos kernel in its compensated, branch-free form) and the
// quadrant's swap and signs: (cos, sin) = (C, S), (−S, C), (−C, −S), (S, −C) for q mod 4 = 0..3.
inline void sincos_turns(double t, double& sin_out, double& cos_out) {
  constexpr double S1 = -1.66666666666666324348e-01, S2 = 8.33333333332248946124e-03,
                   S3 = -1.98412698298579493134e-04, S4 = 2.75573137070700676789e-06,
                   S5 = -2.50507602534068634195e-08, S6 = 1.58969099521155010221e-10;
  constexpr double C1 = 4.16666666666666019037e-02, C2 = -1.38888888888741095749e-03,
                   C3 = 2.48015872894767294178e-05, C4 = -2.75573143513906633035e-07,
                   C5 = 2.08757232129817482790e-09, C6 = -1.13596475577881948265e-11;
  constexpr double half_pi = 1.57079632679489661923;
  // rint by the 1.5·2⁵² shifter (round to nearest even, as the default rounding mode does).
  constexpr double shifter = 0x1.8p52;
  const double four_t = 4.0 * t;
  const double q = (four_t + shifter) - shifter;
  const double x = (four_t - q) * half_pi;
  const double z = x * x, w = z * z;
  const double rs = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
  const double sin_x = x + (z * x) * (S1 + z * rs);
  const double rc = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
  const double hz = 0.5 * z, one_minus_hz = 1.0 - hz;
  const double cos_x = one_minus_hz + (((1.0 - one_minus_hz) - hz) + z * rc);
  apply_quadrant(static_cast<std::int64_t>(q) & 3, sin_x, cos_x, sin_out, cos_out);
}

// float32 versions for float noise (fill_normal_rows into float): the same structure in single
// precision, so that 16 lanes run per instruction and the division and square root are the fast
// single-precision ones. log: fdlibm's e_logf.c (branch-free as above, |error| < 1 ulp);
// sin/cos on [−π/4, π/4]: the Cephes sinf/cosf minimax polynomials (relative error < 3·10⁻⁸).
// The draws equal the double draws rounded to float within a few float ulps of the radius
// (tests/test_random_fill.cpp); u1 within 2⁻²⁵ of 1 rounds to 1 and gives a radius of 0 instead
// of at most 3.5·10⁻⁴ (probability 3·10⁻⁸ per pair).
inline float log_positive(float u) {
  constexpr float ln2_hi = 6.9313812256e-01f, ln2_lo = 9.0580006145e-06f;
  constexpr float Lg1 = 0xaaaaaa.0p-24f, Lg2 = 0xccce13.0p-25f, Lg3 = 0x91e9ee.0p-25f,
                  Lg4 = 0xf89e26.0p-26f;
  std::uint32_t ix = std::bit_cast<std::uint32_t>(u) + (0x3f800000u - 0x3f3504f3u);
  const float dk = static_cast<float>(static_cast<std::int32_t>(ix >> 23) - 0x7f);
  ix = (ix & 0x007fffffu) + 0x3f3504f3u;
  const float f = std::bit_cast<float>(ix) - 1.0f;
  const float hfsq = 0.5f * f * f;
  const float s = f / (2.0f + f);
  const float z = s * s, w = z * z;
  const float R = z * (Lg1 + w * Lg3) + w * (Lg2 + w * Lg4);
  return s * (hfsq + R) + dk * ln2_lo - hfsq + f + dk * ln2_hi;
}

inline void sincos_turns(float t, float& sin_out, float& cos_out) {
  constexpr float S1 = -1.6666654611e-1f, S2 = 8.3321608736e-3f, S3 = -1.9515295891e-4f;
  constexpr float C1 = 4.166664568298827e-2f, C2 = -1.388731625493765e-3f,
                  C3 = 2.443315711809948e-5f;
  constexpr float half_pi = 1.57079632679489661923f, shifter = 0x1.8p23f;
  const float four_t = 4.0f * t;
  const float q = (four_t + shifter) - shifter;  // rint, as in the double version
  const float x = (four_t - q) * half_pi;
  const float z = x * x;
  const float sin_x = x + x * z * (S1 + z * (S2 + z * S3));
  const float cos_x = 1.0f - 0.5f * z + z * z * (C1 + z * (C2 + z * C3));
  apply_quadrant(static_cast<std::int32_t>(q) & 3, sin_x, cos_x, sin_out, cos_out);
}

// One Box–Muller pair from two uniforms, in double or in float.
template <class T>
inline void transform(T u1, T u2, T& z0, T& z1) {
  const T radius = std::sqrt(T(-2) * log_positive(u1));
  T s, c;
  sincos_turns(u2, s, c);
  z0 = radius * c;
  z1 = radius * s;
}

}  // namespace scorematch::box_muller
