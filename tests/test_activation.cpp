// Activation derivatives against central finite differences of the next-lower derivative.
#include <gtest/gtest.h>

#include "scorematch/models/activation.hpp"

namespace scorematch {
namespace {

double derivative(Activation act, double a, int order) {
  double s[4];
  activation_derivatives(act, &a, 1, &s[0], &s[1], &s[2], &s[3]);
  return s[order];
}

TEST(Activation, DerivativesMatchFiniteDifferences) {
  const double h = 1e-5;
  for (const auto& name : activation_names()) {
    const Activation act = parse_activation(name);
    for (double a = -6.0; a <= 6.0; a += 0.37) {
      for (int order = 1; order <= 3; ++order) {
        const double fd =
            (derivative(act, a + h, order - 1) - derivative(act, a - h, order - 1)) / (2 * h);
        EXPECT_NEAR(derivative(act, a, order), fd, 1e-7 * (1 + std::abs(fd)))
            << name << " order " << order << " at a = " << a;
      }
    }
  }
}

TEST(Activation, SoftplusIsStableForLargeInputs) {
  EXPECT_DOUBLE_EQ(derivative(Activation::softplus, 800.0, 0), 800.0);
  EXPECT_NEAR(derivative(Activation::softplus, -800.0, 0), 0.0, 1e-300);
  EXPECT_DOUBLE_EQ(derivative(Activation::softplus, 800.0, 1), 1.0);
}

TEST(Activation, UnknownNameIsAnError) {
  EXPECT_THROW(parse_activation("relu6"), Error);
}

}  // namespace
}  // namespace scorematch
