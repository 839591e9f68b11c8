// scorematch map: MAP estimates of x from y = A x + ε, ε ~ N(0, σ_y² I), one observation per row of
// --obs, under a score prior (a fitted model or an analytic target). Learned priors: Adam ascent on
// log p(x | y) (posterior score s(x) + Aᵀ(y − A x)/σ_y²); a Gaussian prior: the exact posterior
// mean
// (= MAP). Rows are sharded over ranks; x_map.npy is written collectively.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "data_shard.hpp"
#include "observation.hpp"
#include "score_source.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/dist/collective_write.hpp"
#include "scorematch/dist/comm.hpp"
#include "scorematch/inverse/map_lbfgs.hpp"
#include "scorematch/inverse/posterior.hpp"
#include "scorematch/models/mlp_model.hpp"

namespace scorematch::app {

struct MapJob {
  std::string model, target, out, method = "auto", init = "adjoint";
  std::string init_file;  // --init file: one starting point per observation
  Index dim = 0;
  InverseOptions inv;
  inverse::MapSettings adam;
  double prior_level = 0;  // > 0: evaluate a σ-conditioned prior at this level
  double anneal_from = 0;  // > 0: adam by continuation from this level down (map.cpp)
  Index anneal_stages = 8;
  // The method-specific settings the user gave (keys init, init_file, steps, lr, prior_level,
  // anneal_from, anneal_stages), named as given; one the method does not read is refused, but
  // under --method auto only when typed on the command line (a job file may serve many priors).
  struct Given {
    std::string key, name;
    bool typed;  // on the command line, not from a job file
  };
  std::vector<Given> given;
};

void run_map(const dist::Comm& comm, MapJob& job);

}  // namespace scorematch::app
