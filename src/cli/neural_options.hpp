// Registers the neural-model options of `fit` (option group "Neural models").
#pragma once
#include <CLI/CLI.hpp>

#include "app/fit_neural.hpp"

namespace scorematch::cli {

using app::NeuralOptions;

void add_neural_options(CLI::App* app, NeuralOptions& o);

}  // namespace scorematch::cli
