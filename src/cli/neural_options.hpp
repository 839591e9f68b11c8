// Registers the neural-model options of `fit` (option group "Neural models").
#pragma once
#include <CLI/CLI.hpp>
#include <vector>

#include "app/fit_neural.hpp"

namespace scorematch::cli {

using app::NeuralOptions;

void add_neural_options(CLI::App* app, NeuralOptions& o);
// The neural options given on the command line or in the job file, with their component.
std::vector<NeuralOptions::Given> given_neural_settings(const CLI::App* app);

}  // namespace scorematch::cli
