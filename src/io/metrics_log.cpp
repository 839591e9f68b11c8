#include "scorematch/io/metrics_log.hpp"

#include <sstream>

#include "scorematch/core/error.hpp"
#include "scorematch/io/output_dir.hpp"

namespace scorematch::io {

MetricsLog::MetricsLog(std::string path, Index keep_until) : path_(std::move(path)) {
  std::string kept;
  if (keep_until >= 0) {
    std::ifstream in(path_);
    std::string line;
    while (std::getline(in, line)) {
      try {
        const auto record = nlohmann::json::parse(line);
        if (record.value("step", Index{0}) <= keep_until) kept += line + "\n";
      } catch (const nlohmann::json::exception&) {
        // A line cut short by a kill: drop it.
      }
    }
  }
  write_file_atomic(path_, kept);
  out_.open(path_, std::ios::app);
  if (!out_) throw Error("cannot open metrics log '" + path_ + "' for writing");
}

void MetricsLog::append(const nlohmann::json& record) {
  out_ << record.dump() << "\n" << std::flush;
  if (!out_) throw Error("writing '" + path_ + "' failed");
}

}  // namespace scorematch::io
