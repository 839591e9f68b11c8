// scorematch latent: latent codes of data rows under a decoder model x = f(z) + ε, ε ~ N(0, Σ):
// MAP codes per row (damped Newton on −log p(z | x); inverse/latent.hpp) and, on request,
// Langevin draws of p(z | x) (ULA or MALA on the latent score J_fᵀ Σ⁻¹ (x − f(z)) − λ z, K chains
// per row started at the MAP). Rows (and their chains) are sharded over ranks in whole blocks of
// 64 chains, so the output is bitwise identical for any number of ranks and threads; every file is
// written collectively.
#pragma once
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "data_shard.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"
#include "scorematch/dist/collective_write.hpp"
#include "scorematch/dist/column_stats.hpp"
#include "scorematch/dist/comm.hpp"
#include "scorematch/inverse/latent.hpp"
#include "scorematch/io/model_dir.hpp"
#include "scorematch/io/npy.hpp"
#include "scorematch/sampling/chain_runner.hpp"

namespace scorematch::app {

struct LatentJob {
  std::string decoder, data, out, noise_sd, prior = "normal", method = "newton", init = "zero";
  double sigma = std::numeric_limits<double>::quiet_NaN();  // NaN: not given
  inverse::LatentMapSettings map;
  SamplerSettings s;
  bool sample = false;
  Index chains_per_row = 8;
};

void run_latent(const dist::Comm& comm, LatentJob& job);

}  // namespace scorematch::app
