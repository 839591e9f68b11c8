// scorematch fit: closed-form score matching of exponential families, distributed.
// Each rank reads only its rows, accumulates sufficient statistics with threads, and one
// MPI_Allreduce per statistic makes them global; every rank then solves the same small system and
// rank 0 writes the model directory.
#pragma once
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "data_shard.hpp"
#include "fit_neural.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"
#include "scorematch/dist/column_stats.hpp"
#include "scorematch/dist/comm.hpp"
#include "scorematch/estimators/gaussian_natural.hpp"
#include "scorematch/estimators/gaussian_sm.hpp"
#include "scorematch/estimators/polynomial_sm.hpp"
#include "scorematch/estimators/sandwich.hpp"
#include "scorematch/io/model_dir.hpp"
#include "scorematch/models/gaussian_model.hpp"
#include "scorematch/models/polynomial_model.hpp"

namespace scorematch::app {

struct FitJob {
  NeuralOptions neural;
  std::string data, model = "gaussian", out, se = "auto";
  double ridge = 0.0;
  Index dim = 0;
  bool standardize = true;
  std::vector<std::string> closed_form_given;  // --ridge / --se as the user gave them
};

void run_fit(const dist::Comm& comm, FitJob& job);

}  // namespace scorematch::app
