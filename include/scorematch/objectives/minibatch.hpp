// Which rows make up a training step, as a pure function of (seed, step): every rank computes the
// same global list and keeps the members it owns, so the step does not depend on the number of
// ranks or threads. Slot j of step t draws a row uniformly from RandomStream(key, j, t)
// (sampling with replacement), redrawing rows that belong to the validation split; row i is a
// validation row when RandomStream(split key, i) gives u < val_fraction.
#pragma once
#include <cstdint>
#include <vector>

#include "scorematch/core/types.hpp"

namespace scorematch {

struct DataSplit {
  Index rows = 0;
  double val_fraction = 0.0;
  std::uint64_t seed = 0;
  bool is_validation(Index row) const;
};

std::vector<Index> minibatch_rows(const DataSplit& split, Index batch, std::uint64_t seed,
                                  std::uint32_t step);

}  // namespace scorematch
