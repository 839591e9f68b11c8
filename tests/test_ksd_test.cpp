// The KSD goodness-of-fit test (diagnostics/two_sample.hpp): its sums against a brute-force
// reference twin of the IMQ Stein kernel, calibration under the null (exact draws of a built-in
// target: the rejection rate at level 0.05 over 100 replicate seeds within its binomial error),
// power against a shifted model, and bitwise results for 1 and 2 threads.
#include <gtest/gtest.h>

#include <cmath>

#include "scorematch/core/parallel.hpp"
#include "scorematch/core/random_fill.hpp"
#include "scorematch/diagnostics/stein.hpp"
#include "scorematch/diagnostics/two_sample.hpp"
#include "scorematch/models/targets.hpp"

namespace scorematch {
namespace {

// u(x, y) for the IMQ kernel (c = 1, β = −½), written out term by term (Liu et al. 2016, eq. 7).
double stein_kernel(const Vector& x, const Vector& y, const Vector& sx, const Vector& sy) {
  const Vector r = x - y;
  const double q = 1 + r.squaredNorm(), d = static_cast<double>(x.size());
  const double k = 1 / std::sqrt(q);
  const Vector grad_x_k = -r * std::pow(q, -1.5);  // ∇_x k
  const Vector grad_y_k = r * std::pow(q, -1.5);   // ∇_y k
  const double trace = d * std::pow(q, -1.5) - 3 * r.squaredNorm() * std::pow(q, -2.5);
  return sx.dot(sy) * k + sx.dot(grad_y_k) + sy.dot(grad_x_k) + trace;
}

TEST(KsdTest, SumsMatchBruteForce) {
  const auto target = make_target("gmm", 2);
  const Matrix x = draw_rows(*target, 4, {0, 100});
  const Matrix s = target->score(x);
  const Index n = x.rows(), B = 3;
  Matrix wt(B, n);
  fill_rademacher_rows(9, nullptr, 0, 0, B, n, wt.data(), n);
  const Matrix w = wt.transpose();
  double u_sum = 0;
  Vector boot = Vector::Zero(B);
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < n; ++j) {
      if (i == j) continue;
      const double u = stein_kernel(x.row(i).transpose(), x.row(j).transpose(),
                                    s.row(i).transpose(), s.row(j).transpose());
      u_sum += u;
      for (Index b = 0; b < B; ++b) boot[b] += w(i, b) * u * w(j, b);
    }
  diagnostics::SteinBootstrapSums got{0.0, Vector::Zero(B)};
  for (Index b0 = 0; b0 < n; b0 += diagnostics::kPairBlock) {
    const auto part = diagnostics::imq_stein_bootstrap_sums(
        x, s, {b0, std::min(n, b0 + diagnostics::kPairBlock)}, w);
    got.u_sum += part.u_sum;
    got.boot += part.boot;
  }
  EXPECT_NEAR(got.u_sum, u_sum, 1e-10 * std::fabs(u_sum) + 1e-10);
  for (Index b = 0; b < B; ++b) EXPECT_NEAR(got.boot[b], boot[b], 1e-9 * (1 + std::fabs(boot[b])));
}

// A model whose density is the target's shifted by δ in the first coordinate.
class Shifted final : public ScoreModel {
 public:
  Shifted(std::unique_ptr<Target> t, double delta) : t_(std::move(t)), delta_(delta) {}
  std::string kind() const override { return "shifted"; }
  Index dim() const override { return t_->dim(); }
  Matrix move(const Matrix& x) const {
    Matrix y = x;
    y.col(0).array() -= delta_;
    return y;
  }
  Vector energy(const Matrix& x) const override { return t_->energy(move(x)); }
  Matrix score(const Matrix& x) const override { return t_->score(move(x)); }
  Vector score_divergence(const Matrix& x) const override { return t_->score_divergence(move(x)); }
  NamedArrays arrays() const override { return {}; }

 private:
  std::unique_ptr<Target> t_;
  double delta_;
};

TEST(KsdTest, NullRejectionRateIsTheLevel) {
  const auto target = make_target("gmm", 2);
  const int replicates = 100;
  int rejected = 0;
  double p_sum = 0;
  for (int k = 0; k < replicates; ++k) {
    const Matrix x = draw_rows(*target, 1000 + static_cast<std::uint64_t>(k), {0, 200});
    const diagnostics::KsdTest t =
        diagnostics::ksd_test(SerialCollective(), x, *target, 200, static_cast<std::uint64_t>(k));
    rejected += t.p_value <= 0.05 ? 1 : 0;
    p_sum += t.p_value;
  }
  // Binomial(100, 0.05): mean 5, sd 2.18; the p-values' mean 0.5 ± 0.029 (uniform).
  EXPECT_LE(rejected, 5 + 3 * 2.18) << rejected << " of 100 rejected at 0.05";
  EXPECT_NEAR(p_sum / replicates, 0.5, 3 * 0.029);
}

TEST(KsdTest, RejectsAShiftedModel) {
  const Matrix x = draw_rows(*make_target("gmm", 2), 77, {0, 200});
  const Shifted model(make_target("gmm", 2), 0.5);
  const diagnostics::KsdTest t = diagnostics::ksd_test(SerialCollective(), x, model, 500, 1);
  EXPECT_LT(t.p_value, 0.01) << "statistic " << t.statistic;
  EXPECT_GT(t.statistic, 0);
}

TEST(KsdTest, BitwiseForAnyThreadCountAndUndefinedForOneDraw) {
  const auto target = make_target("banana", 3);
  const Matrix x = draw_rows(*target, 5, {0, 150});
  std::vector<diagnostics::KsdTest> runs;
  for (int threads : {1, 2}) {
    parallel::set_num_threads(threads);
    runs.push_back(diagnostics::ksd_test(SerialCollective(), x, *target, 50, 3));
  }
  parallel::set_num_threads(0);
  EXPECT_EQ(runs[0].statistic, runs[1].statistic);
  EXPECT_EQ(runs[0].p_value, runs[1].p_value);
  const diagnostics::KsdTest one =
      diagnostics::ksd_test(SerialCollective(), x.topRows(1), *target, 50, 3);
  EXPECT_TRUE(std::isnan(one.p_value));
  EXPECT_FALSE(one.undefined.empty());
}

}  // namespace
}  // namespace scorematch
