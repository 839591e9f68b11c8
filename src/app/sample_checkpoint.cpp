#include "sample_checkpoint.hpp"

#include <cstdio>

#include <filesystem>
#include <fstream>
#include <set>
#include <system_error>

#include "scorematch/core/error.hpp"
#include "scorematch/dist/collective_write.hpp"
#include "scorematch/io/checkpoint.hpp"
#include "scorematch/io/dataset.hpp"
#include "scorematch/io/output_dir.hpp"

namespace scorematch::app {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
constexpr const char* kFormat = "scorematch-sampler-checkpoint";

// Σ over rows of the low 32 bits of FNV-1a-64 of the row's bytes: each term is < 2³², so the
// float64 sum is exact (order-independent) for up to 2²¹ chains.
double row_checksum(const Matrix& rows) {
  double sum = 0.0;
  for (Index r = 0; r < rows.rows(); ++r) {
    const std::string_view bytes(reinterpret_cast<const char*>(rows.row(r).data()),
                                 static_cast<std::size_t>(rows.cols()) * sizeof(double));
    sum += static_cast<double>(io::fnv1a64(bytes) & 0xffffffffull);
  }
  return sum;
}

// FNV-1a-64 of every field of checkpoint.json but this checksum itself (the rows' checksums
// included), so an edited step, file list or setting is refused like corrupted rows.
std::string header_checksum(json meta) {
  meta.erase("header_checksum");
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(io::fnv1a64(meta.dump())));
  return hex;
}

std::string draws_file(Index from, Index to) {
  return "draws-" + std::to_string(from) + "-" + std::to_string(to) + ".npy";
}

// [x | aux], one row per local chain.
Matrix state_rows(const ChainRunner& runner) {
  const Matrix x = runner.states(), aux = runner.aux();
  Matrix rows(x.rows(), x.cols() + aux.cols());
  rows << x, aux;
  return rows;
}

// The draws of slots [from, to) of each local chain, one row per chain.
Matrix draw_rows(const ChainRunner& runner, Index from, Index to) {
  const Index n = runner.chains().size(), d = runner.draws().cols();
  const Index per_chain = n > 0 ? runner.draws().rows() / n : 0;
  Matrix rows(n, (to - from) * d);
  for (Index c = 0; c < n; ++c)
    for (Index k = from; k < to; ++k)
      rows.block(c, (k - from) * d, 1, d) = runner.draws().row(c * per_chain + k);
  return rows;
}

// Writes this rank's rows of `path` collectively; returns the checksum of all ranks' rows.
double write_rows(const dist::Comm& comm, const std::string& path, const Matrix& rows) {
  dist::write_npy_collective(comm, path, rows, false);
  return comm.allreduce_sum(row_checksum(rows));
}

// This rank's chains' rows of `path`, refused unless the file is `width` wide and all ranks'
// rows sum to `checksum`.
Matrix read_rows(const dist::Comm& comm, const std::string& path, Index width, double checksum,
                 RowRange chains) {
  Matrix rows;
  dist::run_collectively(comm, [&] {
    if (!fs::exists(path))
      throw Error("cannot resume: '" + path + "' is missing (the checkpoint is incomplete)");
    const io::DataInfo info = io::probe_data(path);
    if (info.cols() != width) throw Error("cannot resume: '" + path + "' has the wrong shape");
    rows = io::read_data_rows(info, chains);
  });
  if (comm.allreduce_sum(row_checksum(rows)) != checksum)  // the same on every rank
    throw Error("cannot resume: checksum mismatch in '" + path + "' (the checkpoint is corrupted)");
  return rows;
}

// The keys of the run's configuration that name input files: the checkpoint records, and a resume
// compares, them by file, not by spelling. source.model is recorded so, but compared by content
// only (source.fingerprint; the "model" key is not compared), so a copy of the model resumes.
const std::vector<std::string> kPathKeys{"model", "data",   "init_file", "obs",
                                         "mask",  "kernel", "matrix"};

// How a key of the run's configuration (sampler.json's fields) reads in a refused resume: the
// option that sets it, as the user gave it (flag or job-file key), or what the field records.
std::string config_key_name(const std::string& path) {
  static const std::set<std::string> options{"dtype",         "sampler",
                                             "chains",        "steps",
                                             "warmup",        "thin",
                                             "step_size",     "seed",
                                             "init",          "data",
                                             "init_file",     "metric",
                                             "target_accept", "leapfrog_steps",
                                             "replicas",      "reference",
                                             "sigma_max",     "sigma_min",
                                             "levels",        "t_eps",
                                             "beta_min",      "beta_max",
                                             "snr",           "corrector_steps",
                                             "superchains",   "obs",
                                             "operator",      "mask",
                                             "kernel",        "image",
                                             "boundary",      "matrix",
                                             "sigma_y",       "chains_per_obs",
                                             "guidance",      "sigma_data"};
  if (path == "source.model") return setting("model");
  if (path == "source.fingerprint") return setting("model") + "'s content (its fingerprint)";
  if (path == "source.kind") return "the model's kind";
  if (path == "source.target") return setting("target");
  if (path == "source.dim") return setting("dim");
  if (path == "adapt") return "adapt (" + setting("no_adapt") + " turns it off)";
  if (path == "denoise") return "denoise (" + setting("no_denoise") + " turns it off)";
  const std::string last = path.substr(path.rfind('.') + 1);
  return options.count(last) != 0 ? setting(last) : path;
}

json read_meta(const std::string& json_path, const json& config) {
  std::ifstream in(json_path);
  if (!in) throw Error("cannot resume: no sampler checkpoint '" + json_path + "'");
  json meta;
  try {
    in >> meta;
  } catch (const std::exception& e) {
    throw Error("cannot resume: '" + json_path + "' is not valid JSON (" + e.what() + ")");
  }
  if (!meta.is_object() || meta.value("format", "") != kFormat)
    throw Error("cannot resume: '" + json_path + "' is not a sampler checkpoint");
  if (!meta.contains("header_checksum") || meta["header_checksum"] != json(header_checksum(meta)))
    throw Error("cannot resume: '" + json_path +
                "' was edited or is corrupted (its fields do not match their checksum)");
  const std::string difference =
      io::config_difference(meta.at("config"), config, {"model"}, config_key_name);
  // A setting that differs from the checkpoint's is a usage error (exit 2), as fit's --resume.
  if (!difference.empty())
    throw SettingError("cannot resume from '" + json_path +
                       "': it was written by a different run configuration (" + difference + ")");
  return meta;
}
}  // namespace

SampleCheckpoints::SampleCheckpoints(const dist::Comm& comm, std::string dir, json config)
    : comm_(comm),
      dir_(std::move(dir)),
      config_(io::with_canonical_paths(std::move(config), kPathKeys)) {}

void SampleCheckpoints::write(const ChainRunner& runner) {
  const Index kept = runner.kept_draws();
  const std::string state = "state-" + std::to_string(runner.step()) + ".npy";
  dist::run_collectively(comm_, [&] {
    if (comm_.is_root()) fs::create_directories(dir_);
  });
  const Matrix rows = state_rows(runner);
  const double checksum = write_rows(comm_, dir_ + "/" + state, rows);
  json segments = segments_;
  if (kept > persisted_)
    segments.push_back({{"from", persisted_},
                        {"to", kept},
                        {"checksum", write_rows(comm_, dir_ + "/" + draws_file(persisted_, kept),
                                                draw_rows(runner, persisted_, kept))}});
  dist::run_collectively(comm_, [&] {
    if (!comm_.is_root()) return;
    json meta = {{"format", kFormat},        {"step", runner.step()}, {"state", state},
                 {"row_width", rows.cols()}, {"checksum", checksum},  {"kept_draws", kept},
                 {"draws", segments},        {"config", config_}};
    meta["header_checksum"] = header_checksum(meta);
    io::write_file_atomic(dir_ + "/checkpoint.json", meta.dump(2) + "\n");
    std::set<std::string> named = {state};
    for (const json& s : segments)
      named.insert(draws_file(s.at("from").get<Index>(), s.at("to").get<Index>()));
    for (const auto& entry : fs::directory_iterator(dir_)) {
      const std::string file = entry.path().filename().string();
      if ((file.rfind("state-", 0) == 0 || file.rfind("draws-", 0) == 0) && !named.count(file))
        fs::remove(entry.path());
    }
  });
  segments_ = std::move(segments);
  persisted_ = std::max(persisted_, kept);
}

void SampleCheckpoints::resume(const std::string& from, ChainRunner& runner) {
  json meta;
  dist::run_collectively(comm_, [&] { meta = read_meta(from + "/checkpoint.json", config_); });
  const Index step = meta.at("step").get<Index>(), kept = runner.kept_draws(step);
  const Index d = runner.draws().cols(), k = runner.aux().cols(), n = runner.chains().size();
  // Checkpoints written before the draw files kept every chain's whole draw buffer in its state
  // row, [x | aux | draws_per_chain · d]; they still resume.
  const bool legacy = !meta.contains("draws");
  const Index width = meta.at("row_width").get<Index>();
  if (width < d + k || (!legacy && width != d + k) || (legacy && width < d + k + kept * d))
    throw Error("cannot resume: '" + from + "/" + meta.at("state").get<std::string>() +
                "' has the wrong shape");
  const Matrix rows = read_rows(comm_, from + "/" + meta.at("state").get<std::string>(), width,
                                meta.at("checksum").get<double>(), runner.chains());
  Matrix draws(n * kept, d);
  const auto place = [&](const Matrix& src, Index col0, Index first, Index count) {
    for (Index c = 0; c < n; ++c)
      for (Index j = 0; j < count; ++j)
        draws.row(c * kept + first + j) = src.block(c, col0 + j * d, 1, d);
  };
  if (legacy) place(rows, d + k, 0, kept);
  Index covered = 0;
  for (const json& s : legacy ? json::array() : meta.at("draws")) {
    const Index a = s.at("from").get<Index>(), b = s.at("to").get<Index>();
    if (a != covered || b <= a || b > kept) break;
    const Matrix seg = read_rows(comm_, from + "/" + draws_file(a, b), (b - a) * d,
                                 s.at("checksum").get<double>(), runner.chains());
    place(seg, 0, a, b - a);
    covered = b;
  }
  if (!legacy && covered != kept)
    throw Error("cannot resume: the draw files of '" + from + "/checkpoint.json' do not cover " +
                "the " + std::to_string(kept) + " draws kept by step " + std::to_string(step));
  dist::run_collectively(
      comm_, [&] { runner.restore(step, rows.leftCols(d), rows.middleCols(d, k), draws); });
  std::error_code ec;
  if (!legacy && fs::equivalent(from, dir_, ec)) {  // later checkpoints add to these files
    segments_ = meta.at("draws");
    persisted_ = kept;
  }
}

}  // namespace scorematch::app
