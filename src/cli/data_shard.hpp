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

// The same, but each rank owns whole global blocks of kChainBlock (64) rows (chain_shard), for
// commands whose per-row results must not depend on the decomposition: a batched evaluation
// (GEMM) gives bit-identical rows only for identical batches, so such commands evaluate block by
// block (for_each_block) and every block is the same on any number of ranks.
Shard read_block_shard(const dist::Comm& comm, const std::string& path, Index block = 64,
                       Index expected_dim = 0);

// Calls f(global block, local row offset) for each global 64-row block of `range` (whole blocks,
// as read_block_shard assigns them), in order.
template <class F>
void for_each_block(RowRange range, F f) {
  constexpr Index kBlock = 64;  // == kChainBlock (sampling/chain_runner.hpp)
  for (Index b = range.begin; b < range.end; b += kBlock)
    f(RowRange{b, std::min(range.end, b + kBlock)}, b - range.begin);
}

}  // namespace scorematch::cli
