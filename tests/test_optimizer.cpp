// Optimisers: schedule values, clipping, convergence on a quadratic, EMA, bad settings.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "scorematch/core/error.hpp"
#include "scorematch/optim/optimizer.hpp"

namespace scorematch {
namespace {

TEST(Optimizer, WarmupThenCosineSchedule) {
  OptimizerSettings s;
  s.lr = 1.0;
  s.lr_min = 0.1;
  s.warmup = 10;
  s.total_steps = 110;
  const Optimizer opt(s);
  EXPECT_DOUBLE_EQ(opt.learning_rate(5), 0.5);
  EXPECT_DOUBLE_EQ(opt.learning_rate(10), 1.0);
  EXPECT_NEAR(opt.learning_rate(60), 0.1 + 0.9 * 0.5, 1e-15);  // halfway: cos(π/2) = 0
  EXPECT_NEAR(opt.learning_rate(110), 0.1, 1e-15);
}

// f(θ) = ½ Σ cᵢ θᵢ², minimum at 0, for every optimiser.
TEST(Optimizer, ConvergesOnAQuadratic) {
  const Vector c = (Vector(3) << 1.0, 10.0, 0.1).finished();
  for (const std::string name : {"sgd", "adam", "adamw"}) {
    OptimizerSettings s;
    s.name = name;
    s.lr = name == "sgd" ? 0.05 : 0.05;
    s.schedule = "constant";
    s.total_steps = 3000;
    s.ema_decay = 0.0;
    const Optimizer opt(s);
    Vector theta = Vector::Ones(3);
    OptimizerState state = opt.init(theta);
    for (int t = 0; t < 3000; ++t) opt.apply(theta, c.cwiseProduct(theta), state);
    EXPECT_LT(theta.norm(), 1e-2) << name;
    EXPECT_EQ(state.step, 3000);
  }
}

TEST(Optimizer, ClippingBoundsTheStepAndReportsTheRawNorm) {
  OptimizerSettings s;
  s.name = "sgd";
  s.momentum = 0.0;
  s.lr = 1.0;
  s.schedule = "constant";
  s.clip_norm = 1.0;
  const Optimizer opt(s);
  Vector theta = Vector::Zero(2);
  OptimizerState state = opt.init(theta);
  const UpdateInfo info = opt.apply(theta, Vector::Constant(2, 3.0), state);
  EXPECT_DOUBLE_EQ(info.grad_norm, std::sqrt(18.0));
  EXPECT_NEAR(theta.norm(), 1.0, 1e-15);
}

TEST(Optimizer, EmaAveragesTheTrajectory) {
  OptimizerSettings s;
  s.name = "sgd";
  s.momentum = 0.0;
  s.lr = 1.0;
  s.schedule = "constant";
  s.ema_decay = 0.5;
  const Optimizer opt(s);
  Vector theta = Vector::Zero(1);
  OptimizerState state = opt.init(theta);
  opt.apply(theta, Vector::Constant(1, -1.0), state);  // θ = 1, δ = min(.5, 2/11)
  EXPECT_NEAR(state.ema[0], (1 - 2.0 / 11.0) * 1.0, 1e-15);
}

TEST(Optimizer, BadSettingsAreRejected) {
  OptimizerSettings s;
  s.name = "lbfgs";
  EXPECT_THROW(Optimizer{s}, Error);
  s = OptimizerSettings{};
  s.lr = -1;
  EXPECT_THROW(Optimizer{s}, Error);
}

}  // namespace
}  // namespace scorematch
