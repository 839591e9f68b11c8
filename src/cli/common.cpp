#include <iostream>

#include "command.hpp"
#include "data_shard.hpp"
#include "scorematch/core/error.hpp"

namespace scorematch::cli {

void say(const dist::Comm& comm, const std::string& text) {
  if (comm.is_root()) std::cout << text << std::flush;
}

Shard read_shard(const dist::Comm& comm, const std::string& path, Index expected_dim) {
  Shard shard;
  dist::run_collectively(comm, [&] {
    shard.info = io::probe_data(path);
    if (expected_dim > 0 && shard.info.cols() != expected_dim)
      throw Error("dimension mismatch: the job says --dim " + std::to_string(expected_dim) +
                  " but '" + path + "' has " + std::to_string(shard.info.cols()) + " columns");
    shard.range = dist::shard(shard.info.rows, comm.rank(), comm.size());
    shard.rows = io::read_data_rows(shard.info, shard.range);
  });
  return shard;
}

}  // namespace scorematch::cli
