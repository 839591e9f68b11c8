// A model's density and score field on a 2-D grid (or a 2-D slice through a point of a
// higher-dimensional model): the input of score-field pictures.
//   points     n_x·n_y rows, row k = (i_y · n_x + i_x): x varies fastest; all other coordinates
//              fixed at `through`;
//   energy     φ up to a constant (models with an energy);
//   log_density log p normalised numerically on the grid for d = 2 (log-sum-exp of −φ times the
//              cell area), the conditional slice density for d > 2;
//   score      the two score components along the plotted axes;
//   divergence ∇·s = Δ log p = −Δφ (the full divergence at each point).
#pragma once
#include "scorematch/models/score_model.hpp"

namespace scorematch {

struct GridSpec {
  Index axis_x = 0, axis_y = 1;
  double x_min = -5, x_max = 5, y_min = -5, y_max = 5;
  Index nx = 100, ny = 100;
  Vector through;  // length d; empty = zeros
};

struct GridField {
  Matrix points;  // (nx·ny) × d
  Vector energy, log_density, divergence;
  Matrix score;  // (nx·ny) × 2
  double cell_area = 0;
};

GridField evaluate_field(const ScoreModel& model, const GridSpec& grid);

}  // namespace scorematch
