// NPY format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
//   "\x93NUMPY" major minor, header length (uint16 LE for v1, uint32 LE for v2), then a Python
//   dict literal {'descr': '<f8', 'fortran_order': False, 'shape': (n, d), } padded with spaces
//   and a final '\n' so that the data start at a multiple of 64 bytes.
#include "scorematch/io/npy.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "scorematch/core/error.hpp"
#include "scorematch/io/output_dir.hpp"
#include "scorematch/io/output_guard.hpp"

namespace scorematch::io {

static_assert(std::endian::native == std::endian::little, "NPY I/O assumes a little-endian host");

namespace {

constexpr char kMagic[] = "\x93NUMPY";

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw Error("'" + path + "': " + what);
}

// Value after 'key': in the header dict, up to the next top-level ',' or '}'.
std::string dict_value(const std::string& path, const std::string& dict, const std::string& key) {
  const std::string quoted = "'" + key + "'";
  const auto at = dict.find(quoted);
  if (at == std::string::npos) fail(path, "NPY header has no '" + key + "' entry");
  auto pos = dict.find(':', at + quoted.size());
  if (pos == std::string::npos) fail(path, "malformed NPY header near '" + key + "'");
  ++pos;
  while (pos < dict.size() && dict[pos] == ' ') ++pos;
  std::size_t end = pos;
  if (pos < dict.size() && dict[pos] == '(') {
    end = dict.find(')', pos);
    if (end == std::string::npos) fail(path, "malformed NPY shape");
    return dict.substr(pos, end - pos + 1);
  }
  while (end < dict.size() && dict[end] != ',' && dict[end] != '}') ++end;
  std::string value = dict.substr(pos, end - pos);
  while (!value.empty() && value.back() == ' ') value.pop_back();
  return value;
}

std::vector<Index> parse_shape(const std::string& path, const std::string& text) {
  std::vector<Index> shape;
  std::string inner = text.substr(1, text.size() - 2);
  std::stringstream ss(inner);
  std::string part;
  while (std::getline(ss, part, ',')) {
    const auto b = part.find_first_not_of(' ');
    if (b == std::string::npos) continue;
    const std::string number = part.substr(b, part.find_last_not_of(' ') - b + 1);
    try {
      std::size_t used = 0;
      const long long v = std::stoll(number, &used);
      if (used != number.size() || v < 0) throw std::invalid_argument(number);
      shape.push_back(static_cast<Index>(v));
    } catch (const std::exception&) {
      fail(path, "malformed NPY shape " + text);
    }
  }
  return shape;
}

std::string shape_text(const std::vector<Index>& shape) {
  std::string s;
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "×" : "") + std::to_string(shape[i]);
  return shape.empty() ? "a scalar" : s;
}

// Number of elements, or SIZE_MAX if the product overflows (a corrupted shape must be refused by
// the size check, not wrap around and ask for an impossible allocation).
std::size_t element_count(const std::vector<Index>& shape) {
  std::size_t n = 1;
  for (Index s : shape) {
    const auto k = static_cast<std::size_t>(s);
    if (k != 0 && n > SIZE_MAX / 16 / k) return SIZE_MAX / 16;
    n *= k;
  }
  return n;
}

// Reads `count` elements starting at element `first` and widens them to double.
void read_elements(const std::string& path, const NpyHeader& h, std::size_t first,
                   std::size_t count, double* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open: " + std::string(std::strerror(errno)));
  in.seekg(static_cast<std::streamoff>(h.data_offset + first * h.item_size()));
  if (h.dtype == NpyDtype::f8) {
    in.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(count * 8));
  } else {
    std::vector<float> buffer(count);
    in.read(reinterpret_cast<char*>(buffer.data()), static_cast<std::streamsize>(count * 4));
    for (std::size_t i = 0; i < count; ++i) out[i] = buffer[i];
  }
  if (!in) fail(path, "read error (the file changed or is truncated)");
}

}  // namespace

NpyHeader read_npy_header(const std::string& path) {
  note_input(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open: " + std::string(std::strerror(errno)));
  char magic[8] = {};
  in.read(magic, 8);
  if (in.gcount() == 0) fail(path, "file is empty (expected an NPY file)");
  if (in.gcount() < 8 || std::memcmp(magic, kMagic, 6) != 0)
    fail(path, "not an NPY file (missing the \\x93NUMPY magic)");
  const int major = static_cast<unsigned char>(magic[6]);
  std::size_t header_len = 0, prefix = 0;
  if (major == 1) {
    unsigned char len[2] = {};
    in.read(reinterpret_cast<char*>(len), 2);
    header_len = len[0] | (std::size_t{len[1]} << 8);
    prefix = 10;
  } else if (major == 2) {
    unsigned char len[4] = {};
    in.read(reinterpret_cast<char*>(len), 4);
    header_len = len[0] | (std::size_t{len[1]} << 8) | (std::size_t{len[2]} << 16) |
                 (std::size_t{len[3]} << 24);
    prefix = 12;
  } else {
    fail(path,
         "NPY format version " + std::to_string(major) + " is not supported (expected 1 or 2)");
  }
  if (header_len > std::filesystem::file_size(path))
    fail(path, "corrupted NPY header: its length field says " + std::to_string(header_len) +
                   " bytes, more than the whole file");
  std::string dict(header_len, '\0');
  in.read(dict.data(), static_cast<std::streamsize>(header_len));
  if (!in) fail(path, "truncated NPY header");

  NpyHeader h;
  h.data_offset = prefix + header_len;
  const std::string descr = dict_value(path, dict, "descr");
  if (descr == "'<f8'") {
    h.dtype = NpyDtype::f8;
  } else if (descr == "'<f4'") {
    h.dtype = NpyDtype::f4;
  } else {
    fail(path, "dtype " + descr +
                   " is not supported (expected '<f8' or '<f4': little-endian "
                   "float64 or float32)");
  }
  const std::string order = dict_value(path, dict, "fortran_order");
  if (order == "True")
    fail(path,
         "Fortran-ordered arrays are not supported (expected C order; "
         "save with np.ascontiguousarray)");
  if (order != "False") fail(path, "malformed fortran_order '" + order + "'");
  h.shape = parse_shape(path, dict_value(path, dict, "shape"));

  const auto size = std::filesystem::file_size(path);
  const std::size_t need = h.data_offset + element_count(h.shape) * h.item_size();
  if (size < need)
    fail(path, "truncated: the header promises " + shape_text(h.shape) + " values (" +
                   std::to_string(need - h.data_offset) + " bytes) but only " +
                   std::to_string(size - std::min<std::size_t>(size, h.data_offset)) +
                   " bytes follow the header");
  return h;
}

Matrix read_npy_rows(const std::string& path, const NpyHeader& h, RowRange rows) {
  if (h.shape.size() != 2)
    fail(path, "expected a 2-D array (rows × columns), found shape " + shape_text(h.shape));
  const Index cols = h.shape[1];
  if (rows.begin < 0 || rows.end > h.shape[0] || rows.begin > rows.end)
    fail(path, "row range out of bounds");
  Matrix m(rows.size(), cols);
  read_elements(path, h, static_cast<std::size_t>(rows.begin * cols),
                static_cast<std::size_t>(m.size()), m.data());
  for (Index r = 0; r < m.rows(); ++r)
    for (Index c = 0; c < cols; ++c)
      if (!std::isfinite(m(r, c)))
        fail(path, "row index " + std::to_string(rows.begin + r) + ", column index " +
                       std::to_string(c) + ": value is " + (std::isnan(m(r, c)) ? "NaN" : "Inf") +
                       " (expected finite numbers)");
  return m;
}

Array read_npy_array(const std::string& path) {
  const NpyHeader h = read_npy_header(path);
  if (h.shape.empty() || h.shape.size() > 2)
    fail(path, "expected a 1-D or 2-D array, found shape " + shape_text(h.shape));
  Array a{h.shape, std::vector<double>(element_count(h.shape))};
  read_elements(path, h, 0, a.values.size(), a.values.data());
  return a;
}

std::string npy_header_bytes(const std::vector<Index>& shape, NpyDtype dtype) {
  // Python tuple syntax: "(n, d)" for 2-D, "(n,)" for 1-D.
  std::string tuple = "(";
  for (std::size_t i = 0; i < shape.size(); ++i)
    tuple +=
        std::to_string(shape[i]) + (shape.size() == 1 ? "," : (i + 1 < shape.size() ? ", " : ""));
  tuple += ")";
  std::string dict = std::string("{'descr': '") + (dtype == NpyDtype::f8 ? "<f8" : "<f4") +
                     "', 'fortran_order': False, 'shape': " + tuple;
  dict += ", }";
  // Version 1 if the header length fits 16 bits, else version 2.
  const bool v1 = dict.size() + 1 + 10 <= 65535;
  const std::size_t prefix = v1 ? 10 : 12;
  const std::size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';
  std::string out(kMagic, 6);
  out += static_cast<char>(v1 ? 1 : 2);
  out += '\0';
  const std::size_t len = dict.size();
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>((len >> 8) & 0xff);
  if (!v1) {
    out += static_cast<char>((len >> 16) & 0xff);
    out += static_cast<char>((len >> 24) & 0xff);
  }
  return out + dict;
}

void write_npy(const std::string& path, const Array& array, NpyDtype dtype) {
  std::string bytes = npy_header_bytes(array.shape, dtype);
  if (dtype == NpyDtype::f8) {
    bytes.append(reinterpret_cast<const char*>(array.values.data()), array.values.size() * 8);
  } else {
    std::vector<float> narrow(array.values.begin(), array.values.end());
    bytes.append(reinterpret_cast<const char*>(narrow.data()), narrow.size() * 4);
  }
  write_file_atomic(path, bytes);
}

}  // namespace scorematch::io
