#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "scorematch/core/error.hpp"
#include "scorematch/io/npy.hpp"
#include "scorematch/io/output_dir.hpp"
#include "scorematch/io/output_guard.hpp"

namespace scorematch::io {

namespace fs = std::filesystem;

namespace {
std::string errno_text() {
  return std::strerror(errno);
}

void fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return;  // best effort: some filesystems refuse O_RDONLY on directories
  ::fsync(fd);
  ::close(fd);
}

std::string temp_suffix() {
  return ".tmp-" + std::to_string(::getpid());
}
}  // namespace

void write_file_atomic(const std::string& path, const std::string& bytes) {
  check_not_input(path);  // as every writer: never over a file this run read
  const std::string temp = path + temp_suffix();
  register_staging(temp);
  // Unregistered on every way out; the temporary file is gone by then (renamed or unlinked).
  struct Unregister {
    const std::string& path;
    ~Unregister() { unregister_staging(path); }
  } unregister{temp};
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw Error("cannot write '" + path + "': " + errno_text());
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      const std::string why = errno_text();
      ::close(fd);
      ::unlink(temp.c_str());
      throw Error("cannot write '" + path + "': " + why);
    }
    done += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || ::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlink(temp.c_str());
    throw Error("cannot write '" + path + "': " + why);
  }
}

OutputDir::OutputDir(std::string path) : path_(std::move(path)) {
  if (path_.empty()) throw InvalidSetting("out", "name a directory");
  while (path_.size() > 1 && path_.back() == '/') path_.pop_back();
  std::error_code ec;
  check_not_input(path_);
  check_replaceable(path_);
  temp_ = path_ + temp_suffix();
  register_staging(temp_);
  fs::remove_all(temp_, ec);
  if (!fs::create_directories(temp_, ec))
    throw Error("cannot create output directory '" + path_ + "': " + ec.message());
}

OutputDir::~OutputDir() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(temp_, ec);
  }
  unregister_staging(temp_);
}

void OutputDir::write_text(const std::string& name, const std::string& text) const {
  write_file_atomic(staged(name), text);
}

void OutputDir::write_array(const std::string& name, const Array& array) const {
  write_npy(staged(name), array);
}

void OutputDir::commit() {
  // Checked again at the last moment: inputs read since the constructor count too, and the
  // directory may have gained foreign files meanwhile.
  check_not_input(path_);
  check_replaceable(path_);
  write_manifest(temp_);
  fsync_path(temp_, O_RDONLY | O_DIRECTORY);
  std::error_code ec;
  const std::string old = path_ + ".old" + temp_suffix();
  const bool replacing = fs::exists(path_, ec);
  if (replacing) fs::rename(path_, old, ec);
  if (ec) throw Error("cannot replace '" + path_ + "': " + ec.message());
  fs::rename(temp_, path_, ec);
  if (!ec) unregister_staging(temp_);  // the staging is the output now
  if (ec) {
    if (replacing) fs::rename(old, path_, ec);
    throw Error("cannot create '" + path_ + "': " + ec.message());
  }
  committed_ = true;
  if (replacing) fs::remove_all(old, ec);
  const fs::path parent = fs::absolute(path_).parent_path();
  fsync_path(parent.string(), O_RDONLY | O_DIRECTORY);
}

}  // namespace scorematch::io
