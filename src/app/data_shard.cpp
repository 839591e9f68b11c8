#include "data_shard.hpp"

#include "scorematch/core/error.hpp"
#include "scorematch/sampling/chain_runner.hpp"

namespace scorematch::app {

static_assert(kRowBlock == kChainBlock, "per-row blocks must match the chain blocks");

Shard read_block_shard(const dist::Comm& comm, const std::string& path, Index block,
                       Index expected_dim) {
  return read_shard(comm, path, expected_dim, true, block);
}

Shard read_shard(const dist::Comm& comm, const std::string& path, Index expected_dim,
                 bool load_rows, Index block) {
  Shard shard;
  dist::run_collectively(comm, [&] {
    shard.info = io::probe_data(path);
    if (expected_dim > 0 && shard.info.cols() != expected_dim)
      throw Error("dimension mismatch: the job says --dim " + std::to_string(expected_dim) +
                  " but '" + path + "' has " + std::to_string(shard.info.cols()) + " columns");
    shard.range = block_range(shard.info.rows, block, comm.rank(), comm.size());
    if (load_rows) shard.rows = io::read_data_rows(shard.info, shard.range);
  });
  return shard;
}

}  // namespace scorematch::app
