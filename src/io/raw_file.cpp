#include "scorematch/io/raw_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "scorematch/core/error.hpp"

namespace scorematch::io {

namespace {
[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw Error("cannot " + what + " '" + path + "': " + std::strerror(errno));
}

class Fd {
 public:
  Fd(const std::string& path, int flags) : fd_(::open(path.c_str(), flags, 0644)) {
    if (fd_ < 0) fail("open", path);
  }
  ~Fd() { ::close(fd_); }
  int get() const { return fd_; }

 private:
  int fd_;
};
}  // namespace

void create_sized_file(const std::string& path, const std::string& header, std::size_t total_size) {
  Fd fd(path, O_WRONLY | O_CREAT | O_TRUNC);
  if (::ftruncate(fd.get(), static_cast<off_t>(total_size)) != 0) fail("size", path);
  write_at(path, 0, header.data(), header.size());
}

void write_at(const std::string& path, std::size_t offset, const char* data, std::size_t size) {
  if (size == 0) return;
  Fd fd(path, O_WRONLY);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n =
        ::pwrite(fd.get(), data + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) fail("write", path);
    done += static_cast<std::size_t>(n);
  }
}

void fsync_file(const std::string& path) {
  Fd fd(path, O_RDONLY);
  if (::fsync(fd.get()) != 0) fail("sync", path);
}

void rename_file(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) fail("rename to '" + to + "'", from);
}

void remove_file(const std::string& path) {
  std::remove(path.c_str());
}

}  // namespace scorematch::io
