// Score-field grids: the grid's normalised log-density equals the exact log-density of a
// normalised target (up to the grid's quadrature error), and scores/divergences are the model's.
#include <gtest/gtest.h>

#include <cmath>

#include "scorematch/core/error.hpp"
#include "scorematch/models/targets.hpp"
#include "scorematch/visual/field_grid.hpp"
#include "scorematch/visual/field_profile.hpp"

using namespace scorematch;

TEST(FieldGrid, NormalisedLogDensityMatchesExactTarget) {
  const auto target = make_target("gmm", 2);
  GridSpec g;
  g.x_min = g.y_min = -7;
  g.x_max = g.y_max = 7;
  g.nx = g.ny = 201;
  const GridField f = evaluate_field(*target, g);
  // Riemann sum of a smooth density on a 0.07 grid covering all mass: error ≪ 1e-6.
  EXPECT_NEAR(f.log_density.array().exp().sum() * f.cell_area, 1.0, 1e-9);
  const Vector exact = -target->energy(f.points);
  EXPECT_LT((f.log_density - exact).cwiseAbs().maxCoeff(), 1e-6);
  const Matrix s = target->score(f.points);
  EXPECT_EQ((f.score - s).norm(), 0.0);
  EXPECT_EQ((f.divergence - target->score_divergence(f.points)).norm(), 0.0);
  // Row order: x fastest.
  EXPECT_NEAR(f.points(1, 0) - f.points(0, 0), 14.0 / 200.0, 1e-14);
  EXPECT_NEAR(f.points(201, 1) - f.points(0, 1), 14.0 / 200.0, 1e-14);
}

TEST(FieldGrid, SliceThroughAPointOfAHigherDimensionalModel) {
  const auto target = make_target("gaussian", 4);
  GridSpec g;
  g.axis_x = 3;
  g.axis_y = 1;
  g.through = Vector::LinSpaced(4, 0.0, 3.0);
  g.nx = 5;
  g.ny = 7;
  const GridField f = evaluate_field(*target, g);
  EXPECT_EQ(f.points.rows(), 35);
  EXPECT_EQ(f.points(10, 0), 0.0);
  EXPECT_EQ(f.points(10, 2), 2.0);
  EXPECT_EQ((f.score.col(0) - target->score(f.points).col(3)).norm(), 0.0);
  g.axis_y = 3;
  EXPECT_THROW(evaluate_field(*target, g), Error);
}

// The 1-D mode on the 1-D gaussian target: the model gradient is −score, the potential's central
// differences equal it (1e-6; the potential is quadratic), and the data curves from a KDE of
// 20 000 exact draws follow the smoothed law: for N(μ, σ²) data the KDE is N(μ, σ² + h²) in
// expectation, so its gradient is (t − μ)/(σ² + h²) (checked through its slope, below).
TEST(FieldProfile, ModelAndDataPotentialsAndGradients) {
  const auto target = make_target("gaussian", 1);
  const Matrix x = draw_rows(*target, 5, {0, 20000});
  const double mu = x.col(0).mean();
  const double var = (x.col(0).array() - mu).square().sum() / 19999.0;
  ProfileSpec spec;
  spec.t_min = mu - 3;
  spec.t_max = mu + 3;
  spec.n = 121;
  const Profile p = evaluate_profile(*target, spec, x);
  EXPECT_EQ(p.model_gradient, Vector(-target->score(p.points).col(0)));
  EXPECT_EQ(p.model_potential.minCoeff(), 0.0);
  const double dt = p.t[1] - p.t[0];
  for (Index k = 1; k + 1 < spec.n; ++k) {
    const double fd = (p.model_potential[k + 1] - p.model_potential[k - 1]) / (2 * dt);
    EXPECT_NEAR(fd, p.model_gradient[k], 1e-6 * (1 + std::abs(fd))) << "t = " << p.t[k];
  }
  const double h = p.bandwidth;
  EXPECT_EQ(h, silverman_bandwidth(x.col(0)));
  // Pointwise the KDE score is noisy (≈ 1/(h·√(n p(t) h √(2π))) ≈ 0.3 at 1.5σ with Silverman's h,
  // which is tuned for the density, not its derivative), so compare the least-squares slope over
  // |t − μ| ≤ 1.5σ: about 3σ/h ≈ 24 independent windows give it an s.e. of about 0.05; 3 s.e.
  double stt = 0, stg = 0, st = 0, sg = 0, m = 0;
  for (Index k = 0; k < spec.n; ++k) {
    if (std::abs(p.t[k] - mu) > 1.5 * std::sqrt(var)) continue;
    stt += p.t[k] * p.t[k];
    stg += p.t[k] * p.data_gradient[k];
    st += p.t[k];
    sg += p.data_gradient[k];
    m += 1;
  }
  const double slope = (stg - st * sg / m) / (stt - st * st / m);
  EXPECT_NEAR(slope, 1 / (var + h * h), 0.15);
  EXPECT_THROW(evaluate_profile(*target, ProfileSpec{1, -1, 1, 10, {}}, x), Error);
  EXPECT_THROW(evaluate_profile(*target, ProfileSpec{0, 1, -1, 10, {}}, x), Error);
}
