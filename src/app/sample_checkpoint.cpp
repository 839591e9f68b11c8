#include "sample_checkpoint.hpp"

#include <cstdio>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "scorematch/core/error.hpp"
#include "scorematch/dist/collective_write.hpp"
#include "scorematch/io/checkpoint.hpp"
#include "scorematch/io/dataset.hpp"
#include "scorematch/io/output_dir.hpp"

namespace scorematch::app {

namespace fs = std::filesystem;

namespace {
// Σ over rows of the low 32 bits of FNV-1a-64 of the row's bytes: each term is < 2³², so the
// float64 sum is exact (order-independent) for up to 2²¹ chains.
double row_checksum(const Matrix& rows) {
  double sum = 0.0;
  for (Index r = 0; r < rows.rows(); ++r) {
    const std::string bytes(reinterpret_cast<const char*>(rows.row(r).data()),
                            static_cast<std::size_t>(rows.cols()) * sizeof(double));
    sum += static_cast<double>(io::fnv1a64(bytes) & 0xffffffffull);
  }
  return sum;
}

// FNV-1a-64 of every field of checkpoint.json but this checksum itself (the rows' checksum
// included), so an edited step, state name or setting is refused like corrupted rows.
std::string header_checksum(nlohmann::json meta) {
  meta.erase("header_checksum");
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(io::fnv1a64(meta.dump())));
  return hex;
}

Matrix pack(const ChainRunner& runner) {
  const Matrix x = runner.states(), aux = runner.aux();
  const Index n = x.rows();
  const Index per_chain = n > 0 ? runner.draws().rows() / n : 0;
  Matrix rows(n, x.cols() + aux.cols() + per_chain * x.cols());
  rows.leftCols(x.cols()) = x;
  rows.middleCols(x.cols(), aux.cols()) = aux;
  for (Index c = 0; c < n; ++c)
    for (Index k = 0; k < per_chain; ++k)
      rows.block(c, x.cols() + aux.cols() + k * x.cols(), 1, x.cols()) =
          runner.draws().row(c * per_chain + k);
  return rows;
}
}  // namespace

void write_sample_checkpoint(const dist::Comm& comm, const std::string& dir,
                             const nlohmann::json& config, const ChainRunner& runner) {
  const Matrix rows = pack(runner);
  const std::string name = "state-" + std::to_string(runner.step()) + ".npy";
  dist::run_collectively(comm, [&] {
    if (comm.is_root()) fs::create_directories(dir);
  });
  dist::write_npy_collective(comm, dir + "/" + name, rows, false);
  const double checksum = comm.allreduce_sum(row_checksum(rows));
  dist::run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    nlohmann::json meta = {{"format", "scorematch-sampler-checkpoint"},
                           {"step", runner.step()},
                           {"state", name},
                           {"row_width", rows.cols()},
                           {"checksum", checksum},
                           {"config", config}};
    meta["header_checksum"] = header_checksum(meta);
    io::write_file_atomic(dir + "/checkpoint.json", meta.dump(2) + "\n");
    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string file = entry.path().filename().string();
      if (file.rfind("state-", 0) == 0 && file != name) fs::remove(entry.path());
    }
  });
}

Index read_sample_checkpoint(const dist::Comm& comm, const std::string& dir,
                             const nlohmann::json& config, ChainRunner& runner) {
  nlohmann::json meta;
  Matrix rows;
  const std::string json_path = dir + "/checkpoint.json";
  dist::run_collectively(comm, [&] {
    std::ifstream in(json_path);
    if (!in) throw Error("cannot resume: no sampler checkpoint '" + json_path + "'");
    try {
      in >> meta;
    } catch (const std::exception& e) {
      throw Error("cannot resume: '" + json_path + "' is not valid JSON (" + e.what() + ")");
    }
    if (meta.value("format", "") != "scorematch-sampler-checkpoint")
      throw Error("cannot resume: '" + json_path + "' is not a sampler checkpoint");
    if (!meta.contains("header_checksum") ||
        meta["header_checksum"] != nlohmann::json(header_checksum(meta)))
      throw Error("cannot resume: '" + json_path +
                  "' was edited or is corrupted (its fields do not match their checksum)");
    const std::string difference = io::config_difference(meta.at("config"), config);
    if (!difference.empty())
      throw Error("cannot resume from '" + json_path +
                  "': it was written by a different run configuration (" + difference + ")");
    const io::DataInfo info = io::probe_data(dir + "/" + meta.at("state").get<std::string>());
    if (info.cols() != meta.at("row_width").get<Index>())
      throw Error("cannot resume: '" + info.path + "' has the wrong shape");
    rows = io::read_data_rows(info, runner.chains());
  });
  const double checksum = comm.allreduce_sum(row_checksum(rows));
  dist::run_collectively(comm, [&] {
    if (checksum != meta.at("checksum").get<double>())
      throw Error("cannot resume: checksum mismatch in '" + dir + "/" +
                  meta.at("state").get<std::string>() + "' (the checkpoint is corrupted)");
    const Index d = runner.states().cols(), k = runner.aux().cols();
    const Index n = rows.rows(), per_chain = n > 0 ? runner.draws().rows() / n : 0;
    Matrix draws(n * per_chain, d);
    for (Index c = 0; c < n; ++c)
      for (Index j = 0; j < per_chain; ++j)
        draws.row(c * per_chain + j) = rows.block(c, d + k + j * d, 1, d);
    runner.restore(meta.at("step").get<Index>(), rows.leftCols(d), rows.middleCols(d, k), draws);
  });
  return runner.step();
}

}  // namespace scorematch::app
