// The collective seam: the operations over ranks that the library's distributed algorithms need
// (element-wise sum and max of a buffer, broadcast), as an interface. dist::Comm implements it
// with MPI (the only code that includes <mpi.h>); SerialCollective is the one-process
// implementation, so every distributed algorithm of the library runs, and is tested, without
// MPI. Every rank calls the same operations in the same order with buffers of the same size.
//
// Determinism: a floating-point sum over ranks depends on the reduction order, so the library
// only reduces buffers in which every entry has one non-zero contributor (gather_by_index, the
// per-block partials of block_sum) or exact integer-valued limbs (core/long_accumulator.hpp):
// the result is then the same bits for any number of ranks.
#pragma once
#include <string>
#include <vector>

#include "scorematch/core/long_accumulator.hpp"
#include "scorematch/core/types.hpp"

namespace scorematch {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  bool is_root() const { return rank() == 0; }
  // In place, element-wise over ranks.
  virtual void allreduce_sum(std::vector<double>& buffer) const = 0;
  virtual void allreduce_max(std::vector<double>& buffer) const = 0;
  // From `root` to every rank; sizes must match (the string's is sent first).
  virtual void broadcast(std::vector<double>& buffer, int root = 0) const = 0;
  virtual void broadcast(std::string& text, int root = 0) const = 0;

  double allreduce_sum(double value) const {
    std::vector<double> buffer{value};
    allreduce_sum(buffer);
    return buffer[0];
  }
  double allreduce_max(double value) const {
    std::vector<double> buffer{value};
    allreduce_max(buffer);
    return buffer[0];
  }
};

// One process: every operation is the identity.
class SerialCollective final : public Collective {
 public:
  using Collective::allreduce_max;
  using Collective::allreduce_sum;
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduce_sum(std::vector<double>&) const override {}
  void allreduce_max(std::vector<double>&) const override {}
  void broadcast(std::vector<double>&, int) const override {}
  void broadcast(std::string&, int) const override {}
};

// Σ over ranks of exact sums: the limbs (core/long_accumulator.hpp) are summed exactly in a
// floating-point allreduce, so the total is the same bits for any number of ranks.
std::vector<double> exact_sum_over_ranks(const Collective& collective, ExactVectorSum local);

// Rows [begin, begin + local.rows()) of a total × cols matrix held by this rank → the whole
// matrix on every rank (a zero-padded sum: each entry has one contributor, so it is exact).
Matrix gather_by_index(const Collective& collective, const Matrix& local, Index begin, Index total);
Vector gather_by_index(const Collective& collective, const Vector& local, Index begin, Index total);

// Σ_b f(rows of block b) over the blocks of `block` rows of [0, n), blocks split over ranks
// (balanced_range); the partials are summed in block order on every rank, so the result is the
// same bits for any number of ranks.
template <class F>
double block_sum(const Collective& collective, Index n, Index block, F f) {
  const Index blocks = (n + block - 1) / block;
  const RowRange mine = balanced_range(blocks, collective.rank(), collective.size());
  std::vector<double> partial(static_cast<std::size_t>(blocks), 0.0);
  for (Index b = mine.begin; b < mine.end; ++b)
    partial[static_cast<std::size_t>(b)] = f(RowRange{b * block, std::min(n, (b + 1) * block)});
  collective.allreduce_sum(partial);
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

}  // namespace scorematch
