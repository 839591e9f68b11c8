// Activation derivatives against central finite differences of the next-lower derivative.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

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

// The branch-free SIMD softplus and sigmoid agree with the scalar reference formulas to a few
// ulps (relative), including where softplus(a) ≈ eᵃ is tiny and where 1 + e rounds to 1. Below
// a ≈ −708 the results are subnormal and Eigen's SIMD exp flushes them to zero (checked to be ≥ 0
// and tiny in SoftplusIsStableForLargeInputs), so the relative check starts at −700.
TEST(Activation, VectorisedSoftplusMatchesScalarReferenceToUlps) {
  std::vector<double> a;
  for (double v = -700.0; v <= 745.0; v += 0.173) a.push_back(v);
  for (double v : {-40.0, -37.5, -36.0, 0.0, 1e-300, -1e-300, 36.0, 37.5, 40.0}) a.push_back(v);
  const Index n = static_cast<Index>(a.size());
  std::vector<double> s0(a.size()), s1(a.size());
  activation_derivatives(Activation::softplus, a.data(), n, s0.data(), s1.data(),
                         static_cast<double*>(nullptr), static_cast<double*>(nullptr));
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double x = a[i];
    const double sp = x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
    const double sg = x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
    EXPECT_NEAR(s0[i], sp, 4e-16 * std::abs(sp) + 1e-320) << "softplus at a = " << x;
    EXPECT_NEAR(s1[i], sg, 4e-16 * std::abs(sg) + 1e-320) << "sigmoid at a = " << x;
  }
}

// A NaN pre-activation (diverged weights) must stay NaN so the training NaN guard sees it.
// float (its own exp/log1p kernels) against the double reference rounded to float: 3 float ulps.
TEST(Activation, FloatSoftplusMatchesDoubleReference) {
  std::vector<float> a;
  for (float v = -85.0f; v <= 88.0f; v += 0.0173f) a.push_back(v);
  const Index n = static_cast<Index>(a.size());
  std::vector<float> s0(a.size()), s1(a.size());
  activation_derivatives<float>(Activation::softplus, a.data(), n, s0.data(), s1.data(), nullptr,
                                nullptr);
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double x = a[i];
    const double sp = x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
    const double sg = x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
    EXPECT_NEAR(s0[i], sp, 3 * 6e-8 * std::abs(sp) + 1e-44) << "softplus at a = " << x;
    EXPECT_NEAR(s1[i], sg, 3 * 6e-8 * std::abs(sg) + 1e-44) << "sigmoid at a = " << x;
  }
}

TEST(Activation, NaNPropagatesThroughEveryActivation) {
  for (const auto& name : activation_names()) {
    double a = std::nan(""), s[4];
    activation_derivatives(parse_activation(name), &a, 1, &s[0], &s[1], &s[2], &s[3]);
    for (int k = 0; k < 4; ++k) EXPECT_TRUE(std::isnan(s[k])) << name << " order " << k;
  }
}

TEST(Activation, UnknownNameIsAnError) {
  EXPECT_THROW(parse_activation("relu6"), Error);
}

}  // namespace
}  // namespace scorematch
