// Atomic outputs. A file is written as "<path>.tmp-<pid>", flushed, fsync'd and renamed over
// <path>; a directory is built as "<dir>.tmp-<pid>/" and renamed into place on commit(). If the
// writer is destroyed before commit() (an error was thrown) the temporary is removed, so a failed
// run never leaves a partial output behind.
#pragma once
#include <string>

#include "scorematch/core/array.hpp"

namespace scorematch::io {

// Writes `bytes` to path atomically.
void write_file_atomic(const std::string& path, const std::string& bytes);

class OutputDir {
 public:
  // Fails early if `path` is (or holds) an input of this run, or exists and holds a file that is
  // not in its scorematch manifest (io/output_guard.hpp).
  explicit OutputDir(std::string path);
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;

  const std::string& final_path() const { return path_; }
  // Path of `name` inside the temporary directory (for writers that need a file name).
  std::string staged(const std::string& name) const { return temp_ + "/" + name; }
  void write_text(const std::string& name, const std::string& text) const;
  void write_array(const std::string& name, const Array& array) const;
  // fsyncs and renames the directory into place, replacing an older output of ours.
  void commit();

 private:
  std::string path_, temp_;
  bool committed_ = false;
};

}  // namespace scorematch::io
