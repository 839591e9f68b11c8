// Sampler checkpoints, written by all ranks together so no rank holds every chain:
//   DIR/state-<step>.npy   one row per chain: [x (d) | sampler aux | kept draws (draws·d)],
//                          written collectively (each rank its own chains' rows);
//   DIR/checkpoint.json    step, the run's config (must match on resume), the state file's name,
//                          its shape and a checksum Σ_c FNV-1a-32(row c) (exact in float64 and
//                          independent of how chains are split over ranks).
// The JSON is written (atomically) after the state file, so it never names a partial state.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "scorematch/dist/comm.hpp"
#include "scorematch/sampling/chain_runner.hpp"

namespace scorematch::app {

void write_sample_checkpoint(const dist::Comm& comm, const std::string& dir,
                             const nlohmann::json& config, const ChainRunner& runner);
// Restores `runner` from DIR; refuses (Error naming the file and what differs) a mismatched
// config or a checksum failure. Returns the restored step.
Index read_sample_checkpoint(const dist::Comm& comm, const std::string& dir,
                             const nlohmann::json& config, ChainRunner& runner);

}  // namespace scorematch::app
