#include "scorematch/io/csv.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <string_view>

#include "scorematch/core/error.hpp"
#include "scorematch/io/output_guard.hpp"

namespace scorematch::io {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// The one tokenizer of header and data lines (RFC 4180 quoting): fields split at commas outside
// double quotes, a quoted field's quotes removed ("" inside is one quote), blanks around fields
// trimmed, and a UTF-8 byte-order mark before the first line's first field dropped.
std::vector<std::string> split(const std::string& raw, std::size_t line_no) {
  std::string_view line(raw);
  if (line_no == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false, was_quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"' && trim(field).empty()) {
      quoted = was_quoted = true;
      field.clear();
    } else if (c == ',') {
      fields.push_back(was_quoted ? field : trim(field));
      field.clear();
      was_quoted = false;
    } else if (!(was_quoted && (c == ' ' || c == '\t' || c == '\r'))) {
      field += c;
    }
  }
  fields.push_back(was_quoted ? field : trim(field));
  return fields;
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

// True for a well-formed number beyond the float64 range (overflow or underflow).
bool out_of_range(const std::string& field) {
  const char* begin = field.data();
  const char* end = begin + field.size();
  if (begin != end && *begin == '+') ++begin;
  double value = 0;
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  return ec == std::errc::result_out_of_range && ptr == end;
}

std::ifstream open_csv(const std::string& path) {
  note_input(path);
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
      info.columns = split(line, line_no);
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
    const std::vector<std::string> fields = split(line, line_no);
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
        throw Error(where(path, line_no) + ", " + col +
                    (out_of_range(f) ? ": value '" + f +
                                           "' is outside the float64 range (about 2.2e-308 to "
                                           "1.8e308 in magnitude)"
                                     : ": expected a number, got '" + f + "'"));
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
