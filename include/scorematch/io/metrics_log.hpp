// metrics.jsonl: one JSON object per logged step, appended and flushed line by line so a running
// job can be watched. Opening it for a resumed run keeps only the lines with step ≤ the
// checkpoint's step (rewritten atomically), so the log never holds two histories.
#pragma once
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "scorematch/core/types.hpp"

namespace scorematch::io {

class MetricsLog {
 public:
  // keep_until < 0: start a new log (truncate).
  MetricsLog(std::string path, Index keep_until);
  void append(const nlohmann::json& record);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace scorematch::io
