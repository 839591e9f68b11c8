// NumPy .npy files (format versions 1 and 2; dtypes '<f8' and '<f4'; C order; 1-D or 2-D).
// Anything else is refused with a message naming the file and what was expected.
// Data files are 2-D (rows × columns) and read by row range, so a rank reads only its rows.
#pragma once
#include <string>
#include <vector>

#include "scorematch/core/array.hpp"
#include "scorematch/core/types.hpp"

namespace scorematch::io {

enum class NpyDtype { f8, f4 };

struct NpyHeader {
  NpyDtype dtype = NpyDtype::f8;
  std::vector<Index> shape;
  std::size_t data_offset = 0;  // bytes from the start of the file to the first element
  std::size_t item_size() const { return dtype == NpyDtype::f8 ? 8 : 4; }
};

NpyHeader read_npy_header(const std::string& path);
// Rows [rows.begin, rows.end) of a 2-D file as float64; every value must be finite.
Matrix read_npy_rows(const std::string& path, const NpyHeader& header, RowRange rows);
// A whole 1-D or 2-D file.
Array read_npy_array(const std::string& path);

// The complete header (magic, version, length, dict, padding to a multiple of 64 bytes).
std::string npy_header_bytes(const std::vector<Index>& shape, NpyDtype dtype);
// Atomic write of a whole array.
void write_npy(const std::string& path, const Array& array, NpyDtype dtype = NpyDtype::f8);

}  // namespace scorematch::io
