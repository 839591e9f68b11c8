// NPY: round trips (v1 and v2 headers, float64 and float32), row-range reads, and every malformed
// file refused with a message naming the file and the problem.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "scorematch/core/error.hpp"
#include "scorematch/io/npy.hpp"
#include "scratch.hpp"

using namespace scorematch;
namespace fs = std::filesystem;

namespace {
std::string temp_path(const std::string& name) {
  const fs::path dir = scorematch::testing::scratch_dir() / "npy";
  fs::create_directories(dir);
  return (dir / name).string();
}

void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A raw NPY file with a hand-written header dict and `payload` data bytes.
std::string raw_npy(const std::string& dict, const std::string& payload, int version = 1) {
  std::string header = dict;
  const std::size_t prefix = version == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(version);
  out += '\0';
  const std::size_t len = header.size();
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>(len >> 8);
  if (version == 2) out += std::string(2, '\0');
  return out + header + payload;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

Matrix sample_matrix() {
  Matrix m(5, 3);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = 0.1 * static_cast<double>(i) - 0.7;
  return m;
}
}  // namespace

TEST(Npy, Float64RoundTripIsExactAndReadableByRowRange) {
  const std::string path = temp_path("f8.npy");
  const Matrix m = sample_matrix();
  io::write_npy(path, Array::from(m));
  const io::NpyHeader h = io::read_npy_header(path);
  EXPECT_EQ(h.shape, (std::vector<Index>{5, 3}));
  EXPECT_EQ(h.data_offset % 64, 0u);
  EXPECT_EQ(io::read_npy_rows(path, h, {0, 5}), m);
  EXPECT_EQ(io::read_npy_rows(path, h, {2, 4}), m.middleRows(2, 2));
  EXPECT_EQ(io::read_npy_rows(path, h, {3, 3}).rows(), 0);
}

TEST(Npy, Float32RoundTripKeepsSinglePrecision) {
  const std::string path = temp_path("f4.npy");
  const Matrix m = sample_matrix();
  io::write_npy(path, Array::from(m), io::NpyDtype::f4);
  const io::NpyHeader h = io::read_npy_header(path);
  EXPECT_EQ(h.dtype, io::NpyDtype::f4);
  const Matrix back = io::read_npy_rows(path, h, {0, 5});
  for (Index i = 0; i < m.size(); ++i)
    EXPECT_EQ(back.data()[i], static_cast<double>(static_cast<float>(m.data()[i])));
}

TEST(Npy, OneDimensionalArraysRoundTrip) {
  const std::string path = temp_path("v.npy");
  const Vector v = Vector::LinSpaced(7, -1, 1);
  io::write_npy(path, Array::from(v));
  const Array a = io::read_npy_array(path);
  EXPECT_EQ(a.shape, (std::vector<Index>{7}));
  EXPECT_EQ(a.to_vector("v"), v);
}

TEST(Npy, ReadsVersion2Headers) {
  const std::string path = temp_path("v2.npy");
  const double values[4] = {1, 2, 3, 4};
  write_raw(path, raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }",
                          std::string(reinterpret_cast<const char*>(values), 32), 2));
  const io::NpyHeader h = io::read_npy_header(path);
  EXPECT_EQ(h.data_offset % 64, 0u);
  EXPECT_EQ(io::read_npy_rows(path, h, {1, 2})(0, 1), 4.0);
}

TEST(Npy, RejectsMalformedFilesWithClearMessages) {
  const std::string p = temp_path("bad.npy");
  const std::string eight(16, '\0');
  write_raw(p, raw_npy("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 1), }", eight));
  EXPECT_EQ(error_of([&] { io::read_npy_header(p); }),
            "'" + p +
                "': dtype '<i8' is not supported (expected '<f8' or '<f4': little-endian float64 "
                "or float32)");
  write_raw(p, raw_npy("{'descr': '>f8', 'fortran_order': False, 'shape': (2, 1), }", eight));
  EXPECT_NE(error_of([&] { io::read_npy_header(p); }).find("dtype '>f8' is not supported"),
            std::string::npos);
  write_raw(p, raw_npy("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 1), }", eight));
  EXPECT_NE(
      error_of([&] { io::read_npy_header(p); }).find("Fortran-ordered arrays are not supported"),
      std::string::npos);
  write_raw(p, raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", eight));
  EXPECT_EQ(error_of([&] { io::read_npy_header(p); }),
            "'" + p +
                "': truncated: the header promises 3×2 values (48 bytes) but only 16 bytes follow "
                "the header");
  write_raw(p, raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 2), }", eight));
  const io::NpyHeader h3 = io::read_npy_header(p);
  EXPECT_EQ(error_of([&] {
              io::read_npy_rows(p, h3, {0, 1});
            }),
            "'" + p + "': expected a 2-D array (rows × columns), found shape 1×1×2");
  write_raw(p, "hello, this is not numpy");
  EXPECT_EQ(error_of([&] { io::read_npy_header(p); }),
            "'" + p + "': not an NPY file (missing the \\x93NUMPY magic)");
  write_raw(p, "");
  EXPECT_EQ(error_of([&] { io::read_npy_header(p); }),
            "'" + p + "': file is empty (expected an NPY file)");
  write_raw(p, raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }", eight, 3));
  EXPECT_NE(error_of([&] { io::read_npy_header(p); }).find("NPY format version 3 is not supported"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              io::read_npy_header(temp_path("missing.npy"));
            }).find("cannot open: No such file"),
            std::string::npos);
}

TEST(Npy, RejectsNonFiniteValuesNamingTheRow) {
  const std::string p = temp_path("nan.npy");
  Matrix m = sample_matrix();
  m(3, 1) = std::nan("");
  io::write_npy(p, Array::from(m));
  const io::NpyHeader h = io::read_npy_header(p);
  EXPECT_EQ(error_of([&] {
              io::read_npy_rows(p, h, {0, 5});
            }),
            "'" + p + "': row index 3, column index 1: value is NaN (expected finite numbers)");
  EXPECT_NO_THROW(io::read_npy_rows(p, h, {0, 3}));  // a rank that does not own row 3 is fine
}
