#include "scorematch/visual/field_grid.hpp"

#include <cmath>
#include <string>

#include "scorematch/core/error.hpp"

namespace scorematch {

GridField evaluate_field(const ScoreModel& model, const GridSpec& g) {
  const Index d = model.dim();
  if (g.axis_x < 0 || g.axis_x >= d || g.axis_y < 0 || g.axis_y >= d || g.axis_x == g.axis_y)
    throw SettingError(setting("axes") + " must be two different coordinates in [0, " +
                       std::to_string(d) + ")");
  if (g.nx < 2 || g.ny < 2) throw SettingError(setting("grid") + " needs at least 2 x 2 points");
  if (!(g.x_max > g.x_min) || !(g.y_max > g.y_min) || !std::isfinite(g.x_min + g.x_max) ||
      !std::isfinite(g.y_min + g.y_max))
    throw SettingError(setting("range") + " must have x_min < x_max and y_min < y_max (finite)");
  if (g.through.size() != 0 && g.through.size() != d)
    throw SettingError(setting("through") + " needs " + std::to_string(d) + " values");
  GridField f;
  const Index n = g.nx * g.ny;
  f.points = Matrix(n, d);
  const Vector base = g.through.size() == d ? g.through : Vector::Zero(d);
  const double dx = (g.x_max - g.x_min) / static_cast<double>(g.nx - 1);
  const double dy = (g.y_max - g.y_min) / static_cast<double>(g.ny - 1);
  for (Index iy = 0; iy < g.ny; ++iy)
    for (Index ix = 0; ix < g.nx; ++ix) {
      auto row = f.points.row(iy * g.nx + ix);
      row = base.transpose();
      row[g.axis_x] = g.x_min + static_cast<double>(ix) * dx;
      row[g.axis_y] = g.y_min + static_cast<double>(iy) * dy;
    }
  f.cell_area = dx * dy;
  const Matrix s = model.score(f.points);
  f.score.resize(n, 2);
  f.score.col(0) = s.col(g.axis_x);
  f.score.col(1) = s.col(g.axis_y);
  f.divergence = model.score_divergence(f.points);
  if (model.has_energy()) {
    f.energy = model.energy(f.points);
    // log p = −φ − log Σ_cells e^{−φ} ΔxΔy (log-sum-exp for stability).
    const double top = (-f.energy).maxCoeff();
    const double log_z = top + std::log(((-f.energy).array() - top).exp().sum() * f.cell_area);
    f.log_density = (-f.energy).array() - log_z;
  }
  if (!f.score.allFinite() || !f.divergence.allFinite())
    throw Error("the model's score is NaN or Inf on part of the grid; narrow " + setting("range"));
  return f;
}

}  // namespace scorematch
