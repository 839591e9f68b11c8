// Sampler checkpoints, written by all ranks together so no rank holds every chain:
//   DIR/state-<step>.npy       one row per chain: [x (d) | sampler aux], written collectively
//                              (each rank its own chains' rows);
//   DIR/draws-<from>-<to>.npy  one row per chain: its draws of slots [from, to), each d wide.
//                              A checkpoint writes only the draws kept since the previous one
//                              into this directory, so its cost is the states plus the new
//                              draws, not the whole --steps-sized buffer, and a run stopped
//                              early writes little;
//   DIR/checkpoint.json        step, the run's config (must match on resume), the files' names,
//                              shapes and checksums Σ_c FNV-1a-32(row c) (exact in float64 and
//                              independent of how chains are split over ranks), and a checksum of
//                              the JSON's own fields.
// The JSON is written (atomically) after the files it names, so it never names a partial one;
// files it does not name are removed after it is written.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "scorematch/dist/comm.hpp"
#include "scorematch/sampling/chain_runner.hpp"

namespace scorematch::app {

class SampleCheckpoints {
 public:
  // Checkpoints of the run with `config` into `dir`.
  SampleCheckpoints(const dist::Comm& comm, std::string dir, nlohmann::json config);
  // Restores `runner` from the checkpoint in `from`; refuses (Error naming the file and what
  // differs) a mismatched config, a missing file or a checksum failure. When `from` is this
  // writer's directory, later checkpoints keep its draw files and add only new draws.
  void resume(const std::string& from, ChainRunner& runner);
  void write(const ChainRunner& runner);
  const std::string& dir() const { return dir_; }

 private:
  const dist::Comm& comm_;
  std::string dir_;
  nlohmann::json config_;
  nlohmann::json segments_ = nlohmann::json::array();  // {from, to, checksum}: files in dir_
  Index persisted_ = 0;  // draw slots [0, persisted_) are in segments_' files
};

}  // namespace scorematch::app
