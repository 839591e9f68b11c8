// scorematch field: a model's log-density, energy, score and score divergence on a 2-D grid (or a
// 2-D slice through a point of a higher-dimensional model), written as field.csv and field.json;
// with --profile AXIS the 1-D mode: model vs data potential and gradient along one axis.
// The grid is small (10⁴–10⁶ points), so rank 0 evaluates it; the other ranks only agree on errors.
#pragma once
#include <cmath>
#include <sstream>

#include "field_plot.hpp"
#include "score_source.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/dist/comm.hpp"
#include "scorematch/io/dataset.hpp"
#include "scorematch/visual/field_grid.hpp"
#include "scorematch/visual/field_profile.hpp"

namespace scorematch::app {

struct FieldJob {
  std::string model, target, data, out;
  Index dim = 2, grid = 100;
  std::vector<Index> axes{0, 1};
  std::vector<double> range, through;
  bool png = false;
  std::vector<int> png_size{1400, 620};
  std::string title;
  Index profile = -1;  // >= 0: the 1-D mode along this axis
};

void run_field(const dist::Comm& comm, FieldJob& job);

}  // namespace scorematch::app
