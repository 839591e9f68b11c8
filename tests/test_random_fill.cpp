// Bulk normals (fill_normal_rows) against RandomStream::normal() bitwise, and the Box–Muller
// building blocks (log, sincos of whole turns) against libm / long double references.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "scorematch/core/random_fill.hpp"
#include "scorematch/core/random_stream.hpp"

namespace scorematch {
namespace {

// Shapes around the 256-pair tile and odd d (the last pair's second value unused).
// Double draws equal RandomStream::normal() bitwise. Float draws run the single-precision transform
// on the same uniforms rounded to float; against the double draw of radius r (the pair's
// √(z0² + z1²)) they differ by the float rounding of r and of the angle, ~3·10⁻⁷(1 + r), plus the
// rounding of u1 to float, which moves r² by up to 6·10⁻⁸ (so r by 3·10⁻⁸/r, and u1 within 2⁻²⁵ of
// 1 gives r = 0 instead of at most 3.5·10⁻⁴).
TEST(RandomFill, EqualsSequentialNormalsBitwise) {
  const std::uint64_t seed = 0x1234567890abcdefull;
  for (const Index d : {1, 2, 3, 7, 64, 513})
    for (const Index rows : {1, 5, 300}) {
      std::vector<std::uint64_t> streams(static_cast<std::size_t>(rows));
      for (Index r = 0; r < rows; ++r)
        streams[static_cast<std::size_t>(r)] = 977 * static_cast<std::uint64_t>(r) + (1ull << 40);
      const Index ld = d + 3;  // a row stride wider than d
      std::vector<double> a(static_cast<std::size_t>(rows * ld), -7.0), b = a;
      std::vector<float> f(a.size(), -7.0f);
      fill_normal_rows(seed, nullptr, 11, 9, rows, d, a.data(), ld);
      fill_normal_rows(seed, streams.data(), 0, 9, rows, d, b.data(), ld);
      fill_normal_rows(seed, streams.data(), 0, 9, rows, d, f.data(), ld);
      // Both members of every pair in double (an even width), for the radius.
      const Index even = d + (d & 1);
      std::vector<double> pairs(static_cast<std::size_t>(rows * even));
      fill_normal_rows(seed, streams.data(), 0, 9, rows, even, pairs.data(), even);
      for (Index r = 0; r < rows; ++r) {
        RandomStream ra(seed, 11 + static_cast<std::uint64_t>(r), 9);
        RandomStream rb(seed, streams[static_cast<std::size_t>(r)], 9);
        for (Index j = 0; j < ld; ++j) {
          const auto i = static_cast<std::size_t>(r * ld + j);
          if (j >= d) {  // padding untouched
            ASSERT_EQ(a[i], -7.0);
            continue;
          }
          ASSERT_EQ(a[i], ra.normal()) << "d " << d << " row " << r << " col " << j;
          const double want = rb.normal();
          ASSERT_EQ(b[i], want) << "d " << d << " row " << r << " col " << j;
          const auto p = static_cast<std::size_t>(r * even + (j & ~Index{1}));
          const double radius = std::hypot(pairs[p], pairs[p + 1]);
          const double tol = radius < 4e-4 ? 4e-4 : 3e-7 * (1.0 + radius) + 3e-8 / radius;
          ASSERT_NEAR(f[i], want, tol) << "d " << d << " row " << r << " col " << j;
        }
      }
    }
}

// Bulk signs against RandomStream::rademacher() bitwise, around the 32-bit words and 128-bit
// blocks, with a wider row stride (padding untouched), in double and float.
TEST(RandomFill, SignsEqualSequentialRademacherBitwise) {
  const std::uint64_t seed = 0xfedcba9876543210ull;
  for (const Index n : {1, 31, 32, 33, 127, 128, 129, 300, 513})
    for (const Index rows : {1, 5, 300}) {
      std::vector<std::uint64_t> streams(static_cast<std::size_t>(rows));
      for (Index r = 0; r < rows; ++r)
        streams[static_cast<std::size_t>(r)] = 131 * static_cast<std::uint64_t>(r) + (1ull << 35);
      const Index ld = n + 2;
      std::vector<double> a(static_cast<std::size_t>(rows * ld), 7.0), b = a;
      std::vector<float> f(a.size(), 7.0f);
      fill_rademacher_rows(seed, nullptr, 40, 3, rows, n, a.data(), ld);
      fill_rademacher_rows(seed, streams.data(), 0, 3, rows, n, b.data(), ld);
      fill_rademacher_rows(seed, streams.data(), 0, 3, rows, n, f.data(), ld);
      for (Index r = 0; r < rows; ++r) {
        RandomStream ra(seed, 40 + static_cast<std::uint64_t>(r), 3);
        RandomStream rb(seed, streams[static_cast<std::size_t>(r)], 3);
        for (Index j = 0; j < ld; ++j) {
          const auto i = static_cast<std::size_t>(r * ld + j);
          if (j >= n) {
            ASSERT_EQ(a[i], 7.0);
            ASSERT_EQ(f[i], 7.0f);
            continue;
          }
          ASSERT_EQ(a[i], ra.rademacher()) << "n " << n << " row " << r << " col " << j;
          const double want = rb.rademacher();
          ASSERT_EQ(b[i], want) << "n " << n << " row " << r << " col " << j;
          ASSERT_EQ(f[i], static_cast<float>(want)) << "n " << n << " row " << r << " col " << j;
        }
      }
    }
}

TEST(RandomFill, SeekContinuesAfterTheNormals) {
  for (const Index d : {3, 4}) {
    RandomStream a(5, 6, 7), b(5, 6, 7);
    for (Index j = 0; j < d; ++j) a.normal();
    b.seek(static_cast<std::uint32_t>((d + 1) / 2));
    EXPECT_EQ(a.uniform(), b.uniform()) << d;
  }
}

// |got − want| in ulps of want.
double ulps(double got, double want) {
  return std::abs(got - want) /
         (std::nextafter(want, std::numeric_limits<double>::infinity()) - want);
}

TEST(BoxMuller, LogIsWithinOneUlpOfLibm) {
  std::vector<double> u;
  for (double v = 1.0 / 4096; v <= 1.0; v += 1.0 / 4096 + 1e-9) u.push_back(v);
  for (int k = 1; k <= 54; ++k) u.push_back(std::ldexp(1.0, -k) * 1.37);
  for (double v : {1.0, std::nextafter(1.0, 0.0), 0x1.0p-54, 0.5, std::sqrt(0.5)}) u.push_back(v);
  for (double v : u) ASSERT_LE(ulps(box_muller::log_positive(v), std::log(v)), 1.0) << v;
}

TEST(BoxMuller, SinCosOfTurnsMatchLongDoubleReference) {
  const long double two_pi = 2.0L * std::numbers::pi_v<long double>;
  for (double t = 0.0; t <= 1.0; t += 1.0 / 10007) {
    double s, c;
    box_muller::sincos_turns(t, s, c);
    const long double x = two_pi * static_cast<long double>(t);
    EXPECT_NEAR(s, static_cast<double>(std::sin(x)), 2.5e-16) << t;
    EXPECT_NEAR(c, static_cast<double>(std::cos(x)), 2.5e-16) << t;
  }
}

// 2·10⁵ draws: mean within 5 standard errors of 0, variance within 5 SE (SE = √(2/n)) of 1.
// The same for the float draws, and their fraction beyond ±3 within 5 SE of 2Φ(−3) = 0.0026998.
template <class T>
void expect_standard_normal(std::uint32_t step) {
  const Index rows = 1000, d = 200, n = rows * d;
  std::vector<T> z(static_cast<std::size_t>(n));
  fill_normal_rows(42, nullptr, 0, step, rows, d, z.data(), d);
  double sum = 0, sq = 0, tail = 0;
  for (T v : z) sum += v, sq += double{v} * v, tail += std::abs(v) > 3 ? 1 : 0;
  const double mean = sum / n, var = sq / n - mean * mean, p = 0.0026998;
  EXPECT_LT(std::abs(mean), 5.0 / std::sqrt(static_cast<double>(n)));
  EXPECT_LT(std::abs(var - 1.0), 5.0 * std::sqrt(2.0 / n));
  EXPECT_LT(std::abs(tail / n - p), 5.0 * std::sqrt(p * (1 - p) / n));
}

TEST(RandomFill, DrawsAreStandardNormal) {
  expect_standard_normal<double>(1);
  expect_standard_normal<float>(1);
  expect_standard_normal<float>(2);
}

}  // namespace
}  // namespace scorematch
