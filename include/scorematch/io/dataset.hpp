// A data file (CSV or NPY, chosen by extension) as "n rows × d named columns", read by row range.
#pragma once
#include <string>
#include <vector>

#include "scorematch/core/types.hpp"
#include "scorematch/io/csv.hpp"
#include "scorematch/io/npy.hpp"

namespace scorematch::io {

struct DataInfo {
  enum class Format { csv, npy } format = Format::csv;
  std::string path;
  std::vector<std::string> columns;  // NPY columns are named x1, x2, ...
  Index rows = 0;
  CsvInfo csv;
  NpyHeader npy;
  Index cols() const { return static_cast<Index>(columns.size()); }
};

DataInfo probe_data(const std::string& path);
Matrix read_data_rows(const DataInfo& info, RowRange rows);
// The rows with the given global indices (ascending), read in chunks of `chunk` rows.
Matrix read_selected_rows(const DataInfo& info, const std::vector<Index>& rows,
                          Index chunk = 1 << 15);

}  // namespace scorematch::io
