// Objectives: every θ-gradient against central finite differences of its loss (relative 1e-6),
// SSM's Hutchinson estimate is unbiased for exact ISM (mean within 5 standard errors, variances
// reported), and batch sums are bitwise identical for 1 and 2 threads.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>

#include "mlp_testing.hpp"
#include "scorematch/core/parallel.hpp"
#include "scorematch/objectives/batch_gradient.hpp"
#include "scorematch/objectives/dropout.hpp"

namespace scorematch {
namespace {

using testing::make_spec;
using testing::normal_matrix;
using testing::test_parameters;

struct Case {
  std::string label;
  ObjectiveSettings settings;
  MlpOutput output;
  Conditioning conditioning = Conditioning::none;
};

std::vector<Case> cases() {
  std::vector<Case> all;
  for (MlpOutput out : {MlpOutput::energy, MlpOutput::score}) {
    const std::string kind = out == MlpOutput::energy ? "energy/" : "score/";
    ObjectiveSettings s;
    s.name = "esm";
    all.push_back({kind + "esm", s, out});
    s.name = "ism";
    all.push_back({kind + "ism", s, out});
    s.name = "ssm";
    s.projections = 3;
    all.push_back({kind + "ssm-rademacher", s, out});
    s.probe = "gaussian";
    all.push_back({kind + "ssm-gaussian", s, out});
    s.variance_reduced = true;
    all.push_back({kind + "ssm-gaussian-vr", s, out});
    s.probe = "rademacher";
    all.push_back({kind + "ssm-rademacher-vr", s, out});
    s = ObjectiveSettings{};
    s.name = "dsm";
    s.sigma = 0.4;
    all.push_back({kind + "dsm-single", s, out});
    all.push_back({kind + "dsm-single-conditioned", s, out, Conditioning::sigma});
    s.noise = "ladder";
    s.levels = 5;
    all.push_back({kind + "dsm-ladder", s, out, Conditioning::sigma});
    s.noise = "vpsde";
    all.push_back({kind + "dsm-vpsde", s, out, Conditioning::time});
    if (out == MlpOutput::energy) {  // NCE classifies by the log-density: energies only
      s = ObjectiveSettings{};
      s.name = "nce";
      s.noise_ratio = 3;
      all.push_back({kind + "nce", s, out});
    }
  }
  return all;
}

struct Fixture {
  MlpSpec spec;
  Vector theta;
  Matrix x, target;
  std::vector<std::uint64_t> streams;
  BatchInput input;
};

Fixture make_fixture(const Case& c, Index d, Index n) {
  Fixture f;
  f.spec = make_spec(d, c.output, Activation::softplus, {7, 6, 5}, c.conditioning);
  f.theta = test_parameters(f.spec, 21);
  f.x = normal_matrix(n, d, 22);
  f.target = normal_matrix(n, d, 23);
  for (Index i = 0; i < n; ++i) f.streams.push_back(1000 + static_cast<std::uint64_t>(i));
  f.input.x = &f.x;
  f.input.streams = &f.streams;
  f.input.seed = 99;
  f.input.step = 4;
  f.input.target_score = &f.target;
  return f;
}

TEST(Objectives, GradientsMatchFiniteDifferences) {
  for (const Case& c : cases()) {
    Fixture f = make_fixture(c, 3, 5);
    const auto objective = make_objective(c.settings);
    objective->check(f.spec);
    JetPool<double> pool(f.spec);
    const BatchSums sums = batch_sums(*objective, f.spec, f.theta, f.input, true, pool);
    Vector fd(f.theta.size());
    const double h = 1e-5;
    for (Index i = 0; i < f.theta.size(); ++i) {
      Vector up = f.theta, down = f.theta;
      up[i] += h;
      down[i] -= h;
      fd[i] = (batch_sums(*objective, f.spec, up, f.input, false, pool).loss -
               batch_sums(*objective, f.spec, down, f.input, false, pool).loss) /
              (2 * h);
    }
    EXPECT_LT((sums.grad - fd).norm() / fd.norm(), 1e-6) << c.label;
    EXPECT_TRUE(std::isfinite(sums.loss)) << c.label;
  }
}

TEST(Objectives, FloatGradientsAgreeWithDouble) {
  for (const Case& c : cases()) {
    Fixture f = make_fixture(c, 4, 16);
    const auto objective = make_objective(c.settings);
    JetPool<double> pd(f.spec);
    JetPool<float> pf(f.spec);
    const BatchSums d = batch_sums(*objective, f.spec, f.theta, f.input, true, pd);
    const BatchSums s = batch_sums(*objective, f.spec, f.theta, f.input, true, pf);
    EXPECT_NEAR(s.loss, d.loss, 1e-4 * (1 + std::abs(d.loss))) << c.label;
    EXPECT_LT((s.grad - d.grad).norm() / d.grad.norm(), 1e-4) << c.label;
  }
}

TEST(Objectives, BatchSumsAreBitwiseIdenticalForOneAndTwoThreads) {
  for (const Case& c : cases()) {
    Fixture f = make_fixture(c, 4, 300);
    const auto objective = make_objective(c.settings);
    JetPool<double> pool(f.spec);
    parallel::set_num_threads(1);
    const BatchSums one = batch_sums(*objective, f.spec, f.theta, f.input, true, pool);
    parallel::set_num_threads(2);
    const BatchSums two = batch_sums(*objective, f.spec, f.theta, f.input, true, pool);
    parallel::set_num_threads(0);
    EXPECT_EQ(one.loss, two.loss) << c.label;
    EXPECT_TRUE(one.grad == two.grad) << c.label;
  }
}

// E_v[SSM] = ISM for every x (Hutchinson): over R independent probe draws the mean SSM loss of a
// fixed batch must lie within 5 standard errors of the exact ISM loss. The variances of the
// estimators (per batch) are printed: the price of replacing the exact trace by m probes.
TEST(Objectives, SlicedScoreMatchingIsUnbiasedForExactIsm) {
  const Index d = 6, n = 32, R = 400;
  for (MlpOutput out : {MlpOutput::energy, MlpOutput::score}) {
    Case c{"", {}, out};
    Fixture f = make_fixture(c, d, n);
    ObjectiveSettings ism_settings;
    JetPool<double> pool(f.spec);
    const double ism =
        batch_sums(*make_objective(ism_settings), f.spec, f.theta, f.input, false, pool).loss;
    for (const std::string probe : {"rademacher", "gaussian"}) {
      for (bool reduced : {false, true}) {
        ObjectiveSettings s;
        s.name = "ssm";
        s.probe = probe;
        s.variance_reduced = reduced;
        const auto ssm = make_objective(s);
        double sum = 0, sum_sq = 0;
        for (Index r = 0; r < R; ++r) {
          f.input.step = static_cast<std::uint32_t>(r);
          const double loss = batch_sums(*ssm, f.spec, f.theta, f.input, false, pool).loss;
          sum += loss;
          sum_sq += loss * loss;
        }
        const double mean = sum / R, var = sum_sq / R - mean * mean;
        const double se = std::sqrt(var / R);
        std::cout << (out == MlpOutput::energy ? "energy" : "score") << " ssm " << probe
                  << (reduced ? " variance-reduced" : "") << ": mean " << mean << " (ISM " << ism
                  << "), variance per batch " << var << "\n";
        EXPECT_NEAR(mean, ism, 5 * se + 1e-12) << probe << " reduced=" << reduced;
        EXPECT_GT(var, 0.0);
      }
    }
  }
}

// Dropout (objectives/dropout.hpp) acts in training steps only: a validation evaluation
// (train = false) is bitwise the loss of the same objective without dropout; a training step's
// loss and gradient are another function (their values against the reference twin and finite
// differences: tests/test_jet_reference.cpp, cases "dsm-…-dropout"). Masks: each row's depend
// only on (seed, its stream, step), not on the other rows of the batch, and drop a fraction p of
// the units (within 5 binomial standard deviations), the others scaled by exactly 1/(1 − p).
TEST(Objectives, DropoutActsInTrainingStepsOnly) {
  Case c{"dsm-vesde-dropout", ObjectiveSettings{}, MlpOutput::score, Conditioning::sigma};
  c.settings.name = "dsm";
  c.settings.noise = "vesde";
  Fixture f = make_fixture(c, 4, 300);
  const auto plain = make_objective(c.settings);
  c.settings.dropout = 0.25;
  const auto dropout = make_objective(c.settings);
  dropout->check(f.spec);
  JetPool<double> pool(f.spec);
  const BatchSums reference = batch_sums(*plain, f.spec, f.theta, f.input, true, pool);
  const BatchSums validation = batch_sums(*dropout, f.spec, f.theta, f.input, true, pool);
  EXPECT_EQ(validation.loss, reference.loss);
  EXPECT_TRUE(validation.grad == reference.grad);
  f.input.train = true;
  const BatchSums trained = batch_sums(*dropout, f.spec, f.theta, f.input, true, pool);
  EXPECT_NE(trained.loss, reference.loss);
  EXPECT_TRUE(std::isfinite(trained.loss) && trained.grad.allFinite());
  EXPECT_EQ(batch_sums(*plain, f.spec, f.theta, f.input, true, pool).loss, reference.loss);

  const Index n = f.x.rows();
  const auto masks = dropout_masks<double>(f.spec, 0.25, 99, f.streams.data(), n, 4);
  double zeros = 0, units = 0;
  for (const auto& m : masks)
    for (Index i = 0; i < m.size(); ++i) {
      const double v = m.data()[i];
      EXPECT_TRUE(v == 0.0 || v == 1.0 / 0.75) << v;
      zeros += v == 0.0 ? 1 : 0;
      units += 1;
    }
  EXPECT_NEAR(zeros / units, 0.25, 5 * std::sqrt(0.25 * 0.75 / units));
  const auto one = dropout_masks<double>(f.spec, 0.25, 99, f.streams.data() + 17, 1, 4);
  const auto next = dropout_masks<double>(f.spec, 0.25, 99, f.streams.data() + 17, 1, 5);
  bool step_changes = false;
  for (std::size_t l = 0; l < masks.size(); ++l) {
    EXPECT_TRUE(one[l].row(0) == masks[l].row(17)) << "layer " << l;
    step_changes = step_changes || !(next[l].row(0) == one[l].row(0));
  }
  EXPECT_TRUE(step_changes);

  // Energy models (their DSM differentiates the gradient sweep) and p ∉ [0, 0.95] (NaN too) are
  // refused.
  EXPECT_THROW(
      dropout->check(make_spec(4, MlpOutput::energy, Activation::tanh, {4}, Conditioning::sigma)),
      Error);
  c.settings.dropout = 0.96;
  EXPECT_THROW(make_objective(c.settings), Error);
  c.settings.dropout = std::nan("");
  EXPECT_THROW(make_objective(c.settings), Error);
  c.settings.dropout = -0.1;
  EXPECT_THROW(make_objective(c.settings), Error);
}

// dsm's consistency term (dsm.cpp; Daras et al. 2023) acts in training steps only: a validation
// evaluation is bitwise plain DSM; a training step adds a nonnegative term (its value and
// gradient against the reference twin: tests/test_jet_reference.cpp, "dsm-…-consistency"). It
// needs the VE SDE, a score model and a finite λ ≥ 0.
TEST(Objectives, ConsistencyActsInTrainingStepsOnly) {
  Case c{"dsm-vesde-consistency", ObjectiveSettings{}, MlpOutput::score, Conditioning::sigma};
  c.settings.name = "dsm";
  c.settings.noise = "vesde";
  Fixture f = make_fixture(c, 4, 300);
  const auto plain = make_objective(c.settings);
  c.settings.consistency = 0.5;
  const auto consistent = make_objective(c.settings);
  consistent->check(f.spec);
  JetPool<double> pool(f.spec);
  const BatchSums reference = batch_sums(*plain, f.spec, f.theta, f.input, true, pool);
  const BatchSums validation = batch_sums(*consistent, f.spec, f.theta, f.input, true, pool);
  EXPECT_EQ(validation.loss, reference.loss);
  EXPECT_TRUE(validation.grad == reference.grad);
  f.input.train = true;
  const BatchSums trained = batch_sums(*consistent, f.spec, f.theta, f.input, true, pool);
  const BatchSums plain_trained = batch_sums(*plain, f.spec, f.theta, f.input, true, pool);
  EXPECT_GT(trained.loss, plain_trained.loss);
  EXPECT_TRUE(std::isfinite(trained.loss) && trained.grad.allFinite());
  // No teacher is θ as the teacher; another teacher changes the loss (its values: the reference
  // twin).
  f.input.teacher = &f.theta;
  const BatchSums self = batch_sums(*consistent, f.spec, f.theta, f.input, true, pool);
  EXPECT_EQ(self.loss, trained.loss);
  EXPECT_TRUE(self.grad == trained.grad);
  const Vector other = f.theta * 1.01;
  f.input.teacher = &other;
  EXPECT_NE(batch_sums(*consistent, f.spec, f.theta, f.input, true, pool).loss, trained.loss);

  EXPECT_THROW(consistent->check(
                   make_spec(4, MlpOutput::energy, Activation::tanh, {4}, Conditioning::sigma)),
               Error);
  for (const double bad : {-0.1, std::nan(""), HUGE_VAL}) {
    c.settings.consistency = bad;
    EXPECT_THROW(make_objective(c.settings), SettingError) << bad;
  }
  c.settings.consistency = 0.5;
  c.settings.noise = "ladder";
  EXPECT_THROW(make_objective(c.settings), SettingError);
}

TEST(Objectives, BadSettingsAndModelsAreRejected) {
  ObjectiveSettings s;
  s.name = "nope";
  EXPECT_THROW(make_objective(s), Error);
  s.name = "dsm";
  s.noise = "ladder";
  const auto ladder = make_objective(s);
  EXPECT_THROW(ladder->check(make_spec(2, MlpOutput::score, Activation::tanh)), Error);
  s.name = "ssm";
  s.projections = 0;
  EXPECT_THROW(make_objective(s), Error);
  s.name = "ism";
  EXPECT_THROW(make_objective(s)->check(
                   make_spec(2, MlpOutput::score, Activation::tanh, {4}, Conditioning::sigma)),
               Error);
  s = ObjectiveSettings{};
  s.name = "nce";
  EXPECT_THROW(make_objective(s)->check(make_spec(2, MlpOutput::score, Activation::tanh)), Error);
  s.noise = "uniform";
  EXPECT_THROW(make_objective(s), Error);
  s.noise = "gaussian";
  s.noise_ratio = 0;
  EXPECT_THROW(make_objective(s), Error);
}

}  // namespace
}  // namespace scorematch
