// Registers the options of the observation model y = A x + noise shared by `map` and
// `sample --obs` (app/observation.hpp holds the settings and builds the operator).
#pragma once
#include <CLI/CLI.hpp>
#include <string>

#include "app/observation.hpp"

namespace scorematch::cli {

using app::InverseOptions;

// Registers --obs --operator --mask --kernel --image --boundary --matrix --sigma-y.
void add_inverse_options(CLI::App* app, InverseOptions& o, const std::string& group);

}  // namespace scorematch::cli
