// The division-free exp and reciprocal kernels against libm, in ulps of the reference.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "scorematch/core/vector_math.hpp"

namespace scorematch {
namespace {

// |got − want| in units of the last place of want.
template <class T>
double ulps(T got, T want) {
  const T ulp = std::nextafter(want, std::numeric_limits<T>::infinity()) - want;
  return static_cast<double>(std::abs(got - want) / ulp);
}

// Over [floor, 0] in steps incommensurable with ln2, plus the reduction's edge cases.
template <class T>
void check_exp(T floor) {
  std::vector<T> z;
  for (T v = floor; v <= T(0); v += T(0.01371)) z.push_back(v);
  for (T v : {T(0), T(-0.0), T(-1e-30), T(-1e-7), T(-0.5 * std::log(2.0)), T(-std::log(2.0))})
    z.push_back(v);
  std::vector<T> out(z.size());
  vector_math::exp_nonpositive(z.data(), out.data(), static_cast<Index>(z.size()));
  for (std::size_t i = 0; i < z.size(); ++i)
    ASSERT_LE(ulps(out[i], std::exp(z[i])), 2.0) << "exp at z = " << z[i];
  EXPECT_EQ(out[z.size() - 6], T(1));  // e^0 exactly
}

TEST(VectorMath, ExpNonpositiveIsWithinTwoUlpsOfLibm) {
  check_exp<double>(-708.0);
  check_exp<float>(-87.0f);
}

TEST(VectorMath, ExpNonpositiveClampsTheTailAndKeepsNaN) {
  const double z[3] = {-750.0, -1e6, std::numeric_limits<double>::quiet_NaN()};
  double out[3];
  vector_math::exp_nonpositive(z, out, 3);
  EXPECT_NEAR(out[0], std::exp(-708.0), 4e-16 * std::exp(-708.0));
  EXPECT_NEAR(out[1], std::exp(-708.0), 4e-16 * std::exp(-708.0));
  EXPECT_TRUE(std::isnan(out[2]));
}

// A fine grid of [0, 1] and powers of two down to the subnormals (where log1p(e) = e).
template <class T>
void check_log1p() {
  std::vector<T> e;
  for (int i = 0; i <= 65536; ++i) e.push_back(static_cast<T>(i) / T(65536));
  for (int k = 1; k < std::numeric_limits<T>::digits - std::numeric_limits<T>::min_exponent; k += 3)
    e.push_back(std::ldexp(T(1), -k));
  std::vector<T> out(e.size());
  vector_math::log1p_unit_interval(e.data(), out.data(), static_cast<Index>(e.size()));
  for (std::size_t i = 0; i < e.size(); ++i) {
    if (e[i] == T(0)) {
      EXPECT_EQ(out[i], T(0));
      continue;
    }
    // The reference in double (for float: exact enough to round once).
    const T want = static_cast<T>(std::log1p(static_cast<double>(e[i])));
    ASSERT_LE(ulps(out[i], want), 2.0) << "log1p at e = " << e[i];
  }
}

TEST(VectorMath, Log1pOnTheUnitIntervalIsWithinTwoUlpsOfLibm) {
  check_log1p<double>();
  check_log1p<float>();
}

template <class T>
void check_reciprocal(double max_ulps) {
  using A = Eigen::Array<T, Eigen::Dynamic, 1>;
  const Index n = 20001;
  A e(n);
  for (Index i = 0; i < n; ++i) e[i] = static_cast<T>(i) / static_cast<T>(n - 1);
  const A u = T(1) + e;
  A r(n);
  vector_math::reciprocal_one_to_two<T>(u, e, r);
  for (Index i = 0; i < n; ++i)
    ASSERT_LE(ulps(r[i], T(1) / u[i]), max_ulps) << "1/u at u = " << u[i];
}

TEST(VectorMath, ReciprocalIsWithinOneUlpOfDivision) {
  check_reciprocal<double>(1.0);
  check_reciprocal<float>(1.0);
}

// Σ v² in double against a long-double sum, for lengths around the 8-lane blocks. Float squares
// are exact in double (24-bit significands), double squares round once; with the n − 1 additions
// (all terms positive) |error| ≤ (n + 1)·2⁻⁵³·Σ v² to first order; 1e-15·(n + 1) is 9× that.
template <class T>
void check_squared_norm() {
  std::uint64_t state = 12345;
  for (const Index n : {0, 1, 7, 8, 9, 31, 256, 1001}) {
    std::vector<T> v(static_cast<std::size_t>(n));
    long double want = 0;
    for (auto& x : v) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      x = static_cast<T>(static_cast<double>(state >> 11) * 0x1.0p-53 * 6.0 - 3.0);
      want += static_cast<long double>(x) * static_cast<long double>(x);
    }
    const double got = vector_math::squared_norm(v.data(), n);
    EXPECT_NEAR(got, static_cast<double>(want),
                1e-15 * static_cast<double>(n + 1) * static_cast<double>(want))
        << "n " << n;
  }
}

TEST(VectorMath, SquaredNormIsTheDoubleSumOfSquares) {
  check_squared_norm<double>();
  check_squared_norm<float>();
}

}  // namespace
}  // namespace scorematch
