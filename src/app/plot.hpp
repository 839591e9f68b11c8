// scorematch plot: training curves from a metrics.jsonl written by fit (loss and validation loss vs
// step; learning rate and gradient norm), rendered with gnuplot. The PNG is drawn in a temporary
// directory next to the target and renamed into place.
#pragma once
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gnuplot.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/dist/comm.hpp"
#include "trace_plot.hpp"

namespace scorematch::app {

struct PlotJob {
  std::string metrics, samples, out, title;
  std::vector<int> size{1200, 480};
  bool size_given = false;  // traces: the height is 260 per dimension unless --size says
  Index chains = 0, max_lag = 50;
  std::vector<Index> dims{0};
};

void run_plot(const dist::Comm& comm, PlotJob& job);

}  // namespace scorematch::app
