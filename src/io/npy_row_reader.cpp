#include "scorematch/io/npy_row_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "scorematch/core/error.hpp"

namespace scorematch::io {

namespace {
[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw Error("'" + path + "': " + what);
}
}  // namespace

NpyRowReader::NpyRowReader(const std::string& path) : path_(path), header_(read_npy_header(path)) {
  if (header_.shape.size() != 2)
    fail(path, "data must be a 2-D array (rows × columns), found " +
                   std::to_string(header_.shape.size()) + "-D");
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail(path, "cannot open: " + std::string(std::strerror(errno)));
}

NpyRowReader::~NpyRowReader() {
  if (fd_ >= 0) ::close(fd_);
}

Matrix NpyRowReader::read(const std::vector<Index>& rows) const {
  const Index d = cols();
  const std::size_t item = header_.item_size(), row_bytes = item * static_cast<std::size_t>(d);
  // Row-major staging buffer (NPY is C order), converted to the column-major Matrix at the end.
  std::vector<char> raw(rows.size() * row_bytes);
  std::size_t i = 0;
  while (i < rows.size()) {
    // One pread per run of consecutive rows.
    std::size_t j = i + 1;
    while (j < rows.size() && rows[j] == rows[j - 1] + 1) ++j;
    if (rows[i] < 0 || rows[j - 1] >= this->rows())
      fail(path_, "row index " + std::to_string(rows[i] < 0 ? rows[i] : rows[j - 1]) +
                      " out of range (the file has " + std::to_string(this->rows()) + " rows)");
    std::size_t want = (j - i) * row_bytes, done = 0;
    const auto offset =
        static_cast<off_t>(header_.data_offset + static_cast<std::size_t>(rows[i]) * row_bytes);
    while (done < want) {
      const ssize_t got = ::pread(fd_, raw.data() + i * row_bytes + done, want - done,
                                  offset + static_cast<off_t>(done));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0)
        fail(path_, got < 0 ? "read error: " + std::string(std::strerror(errno))
                            : "truncated (the file changed while reading)");
      done += static_cast<std::size_t>(got);
    }
    i = j;
  }
  Matrix out(static_cast<Index>(rows.size()), d);
  for (Index r = 0; r < out.rows(); ++r)
    for (Index c = 0; c < d; ++c) {
      const char* p =
          raw.data() + static_cast<std::size_t>(r) * row_bytes + static_cast<std::size_t>(c) * item;
      double v;
      if (header_.dtype == NpyDtype::f8) {
        std::memcpy(&v, p, 8);
      } else {
        float f;
        std::memcpy(&f, p, 4);
        v = f;
      }
      if (!std::isfinite(v))
        fail(path_, "row index " + std::to_string(rows[static_cast<std::size_t>(r)]) +
                        ", column index " + std::to_string(c) + ": value is " +
                        (std::isnan(v) ? "NaN" : "Inf") + " (expected finite numbers)");
      out(r, c) = v;
    }
  return out;
}

}  // namespace scorematch::io
