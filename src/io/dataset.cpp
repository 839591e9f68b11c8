#include "scorematch/io/dataset.hpp"

#include <filesystem>

#include "scorematch/core/error.hpp"

namespace scorematch::io {

DataInfo probe_data(const std::string& path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  DataInfo info;
  info.path = path;
  if (std::error_code ec; std::filesystem::is_directory(path, ec))
    throw Error("'" + path + "' is a directory, expected a data file (.csv or .npy)");
  if (ext == ".csv") {
    info.format = DataInfo::Format::csv;
    info.csv = scan_csv(path);
    info.columns = info.csv.columns;
    info.rows = info.csv.rows;
  } else if (ext == ".npy") {
    info.format = DataInfo::Format::npy;
    info.npy = read_npy_header(path);
    if (info.npy.shape.size() != 2)
      throw Error("'" + path + "': data must be a 2-D array (rows × columns), found " +
                  std::to_string(info.npy.shape.size()) + "-D");
    info.rows = info.npy.shape[0];
    for (Index c = 0; c < info.npy.shape[1]; ++c)
      info.columns.push_back("x" + std::to_string(c + 1));
    if (info.rows == 0) throw Error("'" + path + "' has no data rows");
  } else {
    throw Error("'" + path + "': unknown data format '" + ext + "' (expected .csv or .npy)");
  }
  if (info.columns.empty()) throw Error("'" + path + "' has no columns");
  return info;
}

Matrix read_data_rows(const DataInfo& info, RowRange rows) {
  return info.format == DataInfo::Format::csv ? read_csv_rows(info.path, info.csv, rows)
                                              : read_npy_rows(info.path, info.npy, rows);
}

Matrix read_selected_rows(const DataInfo& info, const std::vector<Index>& rows, Index chunk) {
  Matrix out(static_cast<Index>(rows.size()), info.cols());
  std::size_t next = 0;
  for (Index begin = 0; begin < info.rows && next < rows.size(); begin += chunk) {
    const Index end = std::min(info.rows, begin + chunk);
    if (rows[next] >= end) continue;
    const Matrix part = read_data_rows(info, {begin, end});
    for (; next < rows.size() && rows[next] < end; ++next)
      out.row(static_cast<Index>(next)) = part.row(rows[next] - begin);
  }
  if (next != rows.size()) throw Error("'" + info.path + "': row index out of range");
  return out;
}

}  // namespace scorematch::io
