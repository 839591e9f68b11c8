// scorematch eval: a model's score, energy and score divergence on data, plus the ISM objective
//   J = mean_i [ ∇·s(x_i) + ½‖s(x_i)‖² ]   (Hyvärinen 2005; equals the Fisher divergence up to a
// data-only constant) with its Monte-Carlo standard error. Rows are sharded over ranks; the output
// arrays are written collectively (each rank its own rows).
#pragma once
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>

#include "data_shard.hpp"
#include "score_source.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/dist/collective_write.hpp"
#include "scorematch/dist/column_stats.hpp"
#include "scorematch/dist/comm.hpp"

namespace scorematch::app {

struct EvalJob {
  std::string model, target, data, out;
};

void run_eval(const dist::Comm& comm, EvalJob& job);

}  // namespace scorematch::app
