// Score-field grids: the grid's normalised log-density equals the exact log-density of a
// normalised target (up to the grid's quadrature error), and scores/divergences are the model's.
#include <gtest/gtest.h>

#include <cmath>

#include "scorematch/core/error.hpp"
#include "scorematch/models/targets.hpp"
#include "scorematch/visual/field_grid.hpp"

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
