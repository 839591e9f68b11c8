// Training checkpoints: one file per checkpoint, dir/ckpt-<step, 8 digits>.bin:
//   "SCOREMATCH-CHECKPOINT 1\n" + one-line JSON header + "\n" + payload (little-endian float64
//   arrays in header order). The header holds the training config (which must match on resume),
//   its hash, the step, free-form info and the FNV-1a 64 checksum of header-without-checksum +
//   payload. Files are written to a temporary name, fsync'd and renamed; the newest `keep` stay.
#pragma once
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "scorematch/core/types.hpp"

namespace scorematch::io {

struct Checkpoint {
  nlohmann::json config;  // training-relevant settings
  Index step = 0;
  nlohmann::json info;  // e.g. RNG position, wall time
  std::map<std::string, Vector> arrays;
};

std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t hash = 0xcbf29ce484222325ull);

// Returns the path written.
std::string write_checkpoint(const std::string& dir, const Checkpoint& checkpoint, int keep);
// Reads and verifies one file; throws Error naming the file and what is wrong.
Checkpoint read_checkpoint(const std::string& path);
// A checkpoint file, or the newest ckpt-*.bin of a directory; throws when there is none.
std::string resolve_checkpoint(const std::string& file_or_dir);
// "" when equal, else a description of the settings that differ, each named by its path
// ("objective.consistency_teacher was not set (the default), now \"init\""; a key is
// absent where its setting has its default), or by what `name` makes of the path (the caller's
// words for it: the option that sets it, or what a derived value is). Keys in `ignored` (at any
// depth) are not compared: prose derived from other keys, which would only repeat their
// difference.
using KeyNamer = std::function<std::string(const std::string& path)>;
std::string config_difference(const nlohmann::json& saved, const nlohmann::json& current,
                              const std::vector<std::string>& ignored = {},
                              const KeyNamer& name = {});
// A run's configuration as its checkpoint records it and a resume compares it: each string value
// of a key in `path_keys` (at any depth) that names an existing file is replaced by the file's
// canonical path. A checkpoint then names its input files independently of the working
// directory, so a job requeued from another directory, or given another spelling of the same
// file, resumes (a relative path as typed would be read against the new directory).
nlohmann::json with_canonical_paths(nlohmann::json config,
                                    const std::vector<std::string>& path_keys);

}  // namespace scorematch::io
