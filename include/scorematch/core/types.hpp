// Shared numeric types. Batches are row-major: one sample per row (n × d), so a shard of a
// data file maps onto a contiguous block of memory.
#pragma once
#include <Eigen/Dense>
#include <cstdint>

namespace scorematch {

using Index = Eigen::Index;
using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::VectorXd;

// Half-open range [begin, end) of global row (or chain) indices.
struct RowRange {
  Index begin = 0;
  Index end = 0;
  Index size() const { return end - begin; }
};

// Part `part` of [0, n) cut into `parts` contiguous ranges whose sizes differ by at most one
// (the first n % parts ranges are one longer).
inline RowRange balanced_range(Index n, Index part, Index parts) {
  const Index base = n / parts, extra = n % parts;
  const Index begin = part * base + (part < extra ? part : extra);
  return {begin, begin + base + (part < extra ? 1 : 0)};
}

// Part `part` of [0, n) in whole blocks of `block` rows (balanced over the blocks; the last block
// may be partial): empty, {n, n}, for a part that gets no block. block = 1 is balanced_range.
inline RowRange block_range(Index n, Index block, Index part, Index parts) {
  const RowRange b = balanced_range((n + block - 1) / block, part, parts);
  return {b.begin * block < n ? b.begin * block : n, b.end * block < n ? b.end * block : n};
}

}  // namespace scorematch
