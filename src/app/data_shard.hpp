// Reading this rank's rows of a data file, with the error agreement of dist::run_collectively.
#pragma once
#include <string>

#include "scorematch/dist/comm.hpp"
#include "scorematch/io/dataset.hpp"

namespace scorematch::app {

// Rows per block of the per-row commands: the samplers' chain block (checked in common.cpp), so
// a row and its chains (sample --obs, latent --sample) fall in the same blocks.
inline constexpr Index kRowBlock = 64;

struct Shard {
  io::DataInfo info;
  RowRange range;  // global rows owned by this rank (may be empty when ranks > rows)
  Matrix rows;
};

// expected_dim > 0 checks the column count against the job's --dim. With load_rows = false only the
// file is probed and the range assigned (streaming readers fetch rows themselves). Ranks own whole
// blocks of `block` global rows (block_range; 1 = balanced rows, dist::shard).
Shard read_shard(const dist::Comm& comm, const std::string& path, Index expected_dim = 0,
                 bool load_rows = true, Index block = 1);

// The same, but each rank owns whole global blocks of kRowBlock (64) rows (chain_shard), for
// commands whose per-row results must not depend on the decomposition: a batched evaluation
// (GEMM) gives bit-identical rows only for identical batches, so such commands evaluate block by
// block (for_each_block) and every block is the same on any number of ranks.
Shard read_block_shard(const dist::Comm& comm, const std::string& path, Index block = kRowBlock,
                       Index expected_dim = 0);

// Calls f(global block, local row offset) for each global 64-row block of `range` (whole blocks,
// as read_block_shard assigns them), in order.
template <class F>
void for_each_block(RowRange range, F f) {
  for (Index b = range.begin; b < range.end; b += kRowBlock)
    f(RowRange{b, std::min(range.end, b + kRowBlock)}, b - range.begin);
}

}  // namespace scorematch::app
