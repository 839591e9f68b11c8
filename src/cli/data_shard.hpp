// Reading this rank's rows of a data file, with the error agreement of dist::run_collectively.
#pragma once
#include <string>

#include "scorematch/dist/comm.hpp"
#include "scorematch/io/dataset.hpp"

namespace scorematch::cli {

struct Shard {
  io::DataInfo info;
  RowRange range;  // global rows owned by this rank (may be empty when ranks > rows)
  Matrix rows;
};

// expected_dim > 0 checks the column count against the job's --dim. With load_rows = false only the
// file is probed and the range assigned (streaming readers fetch rows themselves).
Shard read_shard(const dist::Comm& comm, const std::string& path, Index expected_dim = 0,
                 bool load_rows = true);

}  // namespace scorematch::cli
