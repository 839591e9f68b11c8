// Random-access reads of selected rows of a 2-D NPY data file, for streaming training: a step reads
// only its minibatch rows (pread per run of consecutive rows), so memory does not grow with the
// file.
#pragma once
#include <string>
#include <vector>

#include "scorematch/core/types.hpp"
#include "scorematch/io/npy.hpp"

namespace scorematch::io {

class NpyRowReader {
 public:
  explicit NpyRowReader(const std::string& path);  // header checked; 2-D '<f8' or '<f4'
  ~NpyRowReader();
  NpyRowReader(const NpyRowReader&) = delete;
  NpyRowReader& operator=(const NpyRowReader&) = delete;

  Index rows() const { return header_.shape[0]; }
  Index cols() const { return header_.shape[1]; }
  // The rows with these global indices, in the order given (ascending order reads fastest); every
  // value must be finite (the error names the row and column).
  Matrix read(const std::vector<Index>& rows) const;

 private:
  std::string path_;
  NpyHeader header_;
  int fd_ = -1;
};

}  // namespace scorematch::io
