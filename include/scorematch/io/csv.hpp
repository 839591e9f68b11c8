// Numeric CSV with one header line of column names, ',' separators, no quoting; '\n' or "\r\n"
// line ends; blank lines are ignored. Files are streamed: scan_csv counts rows without keeping
// them, read_csv_rows parses only the requested rows. Messages name the file, the line (1-based,
// header = line 1) and the column.
#pragma once
#include <string>
#include <vector>

#include "scorematch/core/types.hpp"

namespace scorematch::io {

struct CsvInfo {
  std::vector<std::string> columns;
  Index rows = 0;  // data rows (non-blank lines after the header)
};

CsvInfo scan_csv(const std::string& path);
// Data rows [rows.begin, rows.end) (0-based data-row indices).
Matrix read_csv_rows(const std::string& path, const CsvInfo& info, RowRange rows);

}  // namespace scorematch::io
