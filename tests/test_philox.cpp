// Philox4x32-10 against the Random123 known-answer vectors and against Random123 itself, and the
// distributions built on it (moments within tolerances derived from the number of draws).
#include <Random123/philox.h>
#include <gtest/gtest.h>

#include <cmath>

#include "scorematch/core/philox.hpp"
#include "scorematch/core/random_stream.hpp"

using namespace scorematch;

TEST(Philox, MatchesPublishedKnownAnswerVectors) {
  // Random123 kat_vectors, philox4x32 with 10 rounds.
  EXPECT_EQ(philox4x32_10({0, 0, 0, 0}, {0, 0}),
            (PhiloxCounter{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(
      philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
      (PhiloxCounter{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(
      philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
      (PhiloxCounter{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(Philox, AgreesWithRandom123OnManyInputs) {
  r123::Philox4x32_R<10> reference;
  std::uint32_t x = 12345;
  auto next = [&] { return x = x * 1664525u + 1013904223u; };
  for (int i = 0; i < 2000; ++i) {
    const PhiloxCounter c{next(), next(), next(), next()};
    const PhiloxKey k{next(), next()};
    const auto r = reference({{c[0], c[1], c[2], c[3]}}, {{k[0], k[1]}});
    EXPECT_EQ(philox4x32_10(c, k), (PhiloxCounter{r[0], r[1], r[2], r[3]}));
  }
}

TEST(RandomStream, SameAddressGivesSameDrawsDifferentAddressDiffers) {
  RandomStream a(7, 3, 11), b(7, 3, 11), other_stream(7, 4, 11), other_step(7, 3, 12),
      other_seed(8, 3, 11);
  const double first = a.normal();
  EXPECT_EQ(first, b.normal());
  EXPECT_NE(first, other_stream.normal());
  EXPECT_NE(first, other_step.normal());
  EXPECT_NE(first, other_seed.normal());
}

TEST(RandomStream, UniformIsInOpenUnitIntervalWithCorrectMoments) {
  RandomStream rng(1, 0);
  const int n = 1'000'000;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform();
    ASSERT_GT(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sum2 += u * u;
  }
  // mean 1/2 (sd 1/sqrt(12 n)), E[u²] = 1/3 (sd ≈ 0.298/sqrt(n)); 5 standard errors.
  EXPECT_NEAR(sum / n, 0.5, 5 * std::sqrt(1.0 / 12 / n));
  EXPECT_NEAR(sum2 / n, 1.0 / 3, 5 * 0.298 / std::sqrt(n));
}

TEST(RandomStream, NormalHasZeroMeanUnitVarianceAndGaussianTails) {
  RandomStream rng(2, 5);
  const int n = 1'000'000;
  double sum = 0, sum2 = 0, sum4 = 0;
  int beyond2 = 0;
  for (int i = 0; i < n; ++i) {
    const double z = rng.normal();
    sum += z;
    sum2 += z * z;
    sum4 += z * z * z * z;
    beyond2 += std::abs(z) > 2.0;
  }
  EXPECT_NEAR(sum / n, 0.0, 5 / std::sqrt(n));          // sd 1/sqrt(n)
  EXPECT_NEAR(sum2 / n, 1.0, 5 * std::sqrt(2.0 / n));   // Var z² = 2
  EXPECT_NEAR(sum4 / n, 3.0, 5 * std::sqrt(96.0 / n));  // Var z⁴ = 105 − 9
  const double p = std::erfc(2.0 / std::sqrt(2.0));     // P(|z| > 2)
  EXPECT_NEAR(static_cast<double>(beyond2) / n, p, 5 * std::sqrt(p * (1 - p) / n));
}

TEST(RandomStream, RademacherIsBalancedAndUncorrelated) {
  RandomStream rng(3, 9);
  const int n = 1'000'000;
  double sum = 0, lag = 0, prev = rng.rademacher();
  for (int i = 0; i < n; ++i) {
    const double r = rng.rademacher();
    ASSERT_TRUE(r == 1.0 || r == -1.0);
    sum += r;
    lag += r * prev;
    prev = r;
  }
  EXPECT_NEAR(sum / n, 0.0, 5 / std::sqrt(n));
  EXPECT_NEAR(lag / n, 0.0, 5 / std::sqrt(n));
}
