#include "scorematch/io/csv.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>

#include "scorematch/core/error.hpp"

namespace scorematch::io {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (;;) {
    const auto comma = line.find(',', start);
    fields.push_back(trim(line.substr(start, comma - start)));
    if (comma == std::string::npos) return fields;
    start = comma + 1;
  }
}

bool is_blank(const std::string& line) {
  return trim(line).empty();
}

// Parses a whole field as a double; false if any character is left over.
bool parse_number(const std::string& field, double& value) {
  const char* begin = field.data();
  const char* end = begin + field.size();
  if (begin != end && *begin == '+') ++begin;
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  return ec == std::errc() && ptr == end && begin != end;
}

std::ifstream open_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot open '" + path + "': " + std::strerror(errno));
  return in;
}

std::string where(const std::string& path, std::size_t line) {
  return "'" + path + "' line " + std::to_string(line);
}

}  // namespace

CsvInfo scan_csv(const std::string& path) {
  std::ifstream in = open_csv(path);
  std::string line;
  std::size_t line_no = 0;
  CsvInfo info;
  bool have_header = false;
  while (std::getline(in, line)) {
    ++line_no;
    if (is_blank(line)) continue;
    if (!have_header) {
      info.columns = split(line);
      std::set<std::string> seen;
      bool all_numeric = true;
      for (std::size_t c = 0; c < info.columns.size(); ++c) {
        const std::string& name = info.columns[c];
        if (name.empty())
          throw Error(where(path, line_no) + ": header column " + std::to_string(c + 1) +
                      " has no name (expected a header line of column names)");
        if (!seen.insert(name).second)
          throw Error(where(path, line_no) + ": duplicate column name '" + name +
                      "' in the header");
        double ignored = 0;
        all_numeric = all_numeric && parse_number(name, ignored);
      }
      if (all_numeric)
        throw Error(where(path, line_no) +
                    ": expected a header line of column names, found "
                    "numbers (add a header such as x1,x2,...)");
      have_header = true;
      continue;
    }
    ++info.rows;
  }
  if (in.bad()) throw Error("read error on '" + path + "'");
  if (!have_header) throw Error("'" + path + "' is empty (expected a header line and data rows)");
  if (info.rows == 0) throw Error("'" + path + "' has a header but no data rows");
  return info;
}

Matrix read_csv_rows(const std::string& path, const CsvInfo& info, RowRange rows) {
  const auto cols = static_cast<Index>(info.columns.size());
  Matrix m(rows.size(), cols);
  if (rows.size() == 0) return m;
  std::ifstream in = open_csv(path);
  std::string line;
  std::size_t line_no = 0;
  Index data_row = -2;  // becomes -1 at the header, 0 at the first data row
  while (data_row + 1 < rows.end && std::getline(in, line)) {
    ++line_no;
    if (is_blank(line)) continue;
    ++data_row;
    if (data_row < 0) continue;  // the header
    if (data_row < rows.begin) continue;
    const std::vector<std::string> fields = split(line);
    if (static_cast<Index>(fields.size()) != cols)
      throw Error(where(path, line_no) + ": row has " + std::to_string(fields.size()) +
                  " fields, expected " + std::to_string(cols) + " (one per header column)");
    for (Index c = 0; c < cols; ++c) {
      const std::string& f = fields[static_cast<std::size_t>(c)];
      const std::string col = "column " + std::to_string(c + 1) + " '" +
                              info.columns[static_cast<std::size_t>(c)] + "'";
      double v = 0;
      if (f.empty())
        throw Error(where(path, line_no) + ", " + col + ": empty field, expected a number");
      if (!parse_number(f, v))
        throw Error(where(path, line_no) + ", " + col + ": expected a number, got '" + f + "'");
      if (!std::isfinite(v))
        throw Error(where(path, line_no) + ", " + col + ": value '" + f +
                    "' is not finite (NaN/Inf are not allowed)");
      m(data_row - rows.begin, c) = v;
    }
  }
  if (data_row + 1 < rows.end)
    throw Error("'" + path + "' ended early: it changed while being read");
  return m;
}

}  // namespace scorematch::io
