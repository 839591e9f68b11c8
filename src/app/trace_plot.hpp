// Trace and autocorrelation pictures of sampler output (chain-major samples.npy): one row of
// panels per chosen dimension, left the traces of the first chains, right the autocorrelation
// function averaged over chains (each chain's ACF by FFT, diagnostics::autocorrelation), with the
// ±1.96/√N band of white noise. Only the rows of the plotted chains are read (at most 64 chains),
// so memory stays bounded whatever the run's size.
#pragma once
#include <string>
#include <vector>

#include "scorematch/core/types.hpp"

namespace scorematch::app {

struct TracePicture {
  std::string samples;  // .npy written by sample (chain-major)
  Index chains = 0;
  std::vector<Index> dims{0};
  std::string dims_option = "--dims";  // the option that chose `dims`, for messages
  std::vector<std::string> labels;     // column names (optional)
  Index max_lag = 50, trace_chains = 4;
  int width = 1200, height = 0;  // height 0: 260 per dimension
  std::string title;
};

// Draws `png` (a path) through a temporary directory next to it and renames it into place.
void render_trace(const TracePicture& picture, const std::string& png);
// Throws SettingError "<option> J is outside [0, d)" for a dimension the samples do not have.
void check_plot_dims(const std::vector<Index>& dims, Index d, const std::string& option);

}  // namespace scorematch::app
