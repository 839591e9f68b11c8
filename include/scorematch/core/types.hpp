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

}  // namespace scorematch
