#include "scorematch/objectives/minibatch.hpp"

#include "scorematch/core/error.hpp"
#include "scorematch/core/random_stream.hpp"

namespace scorematch {

bool DataSplit::is_validation(Index row) const {
  if (val_fraction <= 0) return false;
  RandomStream rng(derive_seed(seed, 3), static_cast<std::uint64_t>(row));
  return rng.uniform() < val_fraction;
}

std::vector<Index> minibatch_rows(const DataSplit& split, Index batch, std::uint64_t seed,
                                  std::uint32_t step) {
  std::vector<Index> rows(static_cast<std::size_t>(batch));
  const std::uint64_t key = derive_seed(seed, 1);
  for (Index j = 0; j < batch; ++j) {
    RandomStream rng(key, static_cast<std::uint64_t>(j), step);
    Index row = 0;
    for (int attempt = 0;; ++attempt) {
      if (attempt == 1000) throw Error("no training rows left after the validation split");
      row = std::min(split.rows - 1,
                     static_cast<Index>(rng.uniform() * static_cast<double>(split.rows)));
      if (!split.is_validation(row)) break;
    }
    rows[static_cast<std::size_t>(j)] = row;
  }
  return rows;
}

}  // namespace scorematch
