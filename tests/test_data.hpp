// The shipped data sets, loaded for tests.
#pragma once
#include <string>

#include "scorematch/io/csv.hpp"

namespace scorematch::testing {

inline Matrix faithful() {
  const std::string p = std::string(SCOREMATCH_SOURCE_DIR) + "/data/faithful.csv";
  const io::CsvInfo info = io::scan_csv(p);
  return io::read_csv_rows(p, info, {0, info.rows});
}

}  // namespace scorematch::testing
