#include "scorematch/dist/collective_write.hpp"

#include <unistd.h>

#include <charconv>
#include <filesystem>

#include "scorematch/core/error.hpp"
#include "scorematch/io/npy.hpp"
#include "scorematch/io/raw_file.hpp"

namespace scorematch::dist {

void write_ordered(const Comm& comm, const std::string& path, const std::string& header,
                   std::string_view local_bytes) {
  std::string temp = path + ".tmp-" + std::to_string(::getpid());
  comm.broadcast(temp);
  const auto local_size = static_cast<long long>(local_bytes.size());
  const long long before = comm.exclusive_scan_sum(local_size);
  const auto total = static_cast<std::size_t>(comm.allreduce_sum(static_cast<double>(local_size)));
  const std::size_t header_size = comm.is_root() ? header.size() : 0;
  std::vector<double> header_len{static_cast<double>(header_size)};
  comm.broadcast(header_len);
  const auto offset = static_cast<std::size_t>(header_len[0]) + static_cast<std::size_t>(before);
  try {
    run_collectively(comm, [&] {
      if (comm.is_root())
        io::create_sized_file(temp, header, static_cast<std::size_t>(header_len[0]) + total);
    });
    run_collectively(comm,
                     [&] { io::write_at(temp, offset, local_bytes.data(), local_bytes.size()); });
    run_collectively(comm, [&] {
      if (comm.is_root()) {
        io::fsync_file(temp);
        io::rename_file(temp, path);
      }
    });
  } catch (const CollectiveFailure&) {
    if (comm.is_root()) io::remove_file(temp);
    throw;
  }
}

void write_npy_collective(const Comm& comm, const std::string& path, const Matrix& local,
                          bool one_d) {
  // Nothing non-finite is ever written: an overflow or a NaN is an error naming the file and the
  // global row (agreed by all ranks), never a file that reads as numbers.
  const long long first = comm.exclusive_scan_sum(static_cast<long long>(local.rows()));
  run_collectively(comm, [&] {
    for (Index r = 0; r < local.rows(); ++r)
      if (!local.row(r).allFinite())
        throw Error("refusing to write '" + std::filesystem::path(path).filename().string() +
                    "': row " + std::to_string(first + r + 1) +
                    " is not finite (NaN or an overflow to Inf)");
  });
  const auto total_rows = static_cast<Index>(comm.allreduce_sum(static_cast<double>(local.rows())));
  std::vector<Index> shape{total_rows};
  if (!one_d) shape.push_back(local.cols());
  const std::string header = io::npy_header_bytes(shape, io::NpyDtype::f8);
  // The matrix's own row-major storage, written without a copy.
  const std::string_view bytes(reinterpret_cast<const char*>(local.data()),
                               static_cast<std::size_t>(local.size()) * sizeof(double));
  write_ordered(comm, path, header, bytes);
}

void write_csv_collective(const Comm& comm, const std::string& path,
                          const std::vector<std::string>& columns, const Matrix& local) {
  std::string header;
  for (std::size_t c = 0; c < columns.size(); ++c) header += (c ? "," : "") + columns[c];
  header += '\n';
  std::string text;
  char buffer[32];
  for (Index r = 0; r < local.rows(); ++r) {
    for (Index c = 0; c < local.cols(); ++c) {
      if (c) text += ',';
      // Shortest representation that round-trips exactly.
      const auto result = std::to_chars(buffer, buffer + sizeof buffer, local(r, c));
      text.append(buffer, result.ptr);
    }
    text += '\n';
  }
  write_ordered(comm, path, header, text);
}

}  // namespace scorematch::dist
