// MPI, behind a small interface. This is the only part of scorematch that includes <mpi.h>.
//  - Environment: MPI_Init_thread / MPI_Finalize (threads call no MPI: MPI_THREAD_FUNNELED).
//  - Comm: rank, size, allreduce of a flat buffer (statistics and gradients meet here), broadcast.
//  - shard(): the balanced contiguous row range a rank owns; rank 0 always owns row 0.
//  - run_collectively(): error agreement. A bad row is seen by one rank only; instead of letting
//    the others hang in the next collective, every rank runs the step, then all agree on whether
//    any failed; the lowest failing rank prints its message and every rank throws
//    CollectiveFailure (main turns it into exit code 1).
#pragma once
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "scorematch/core/types.hpp"

namespace scorematch::dist {

class Environment {
 public:
  Environment(int& argc, char**& argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
};

class Comm {
 public:
  static Comm world();
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }

  void allreduce_sum(std::vector<double>& buffer) const;  // in place
  double allreduce_sum(double value) const;
  double allreduce_max(double value) const;
  void allreduce_max(std::vector<double>& buffer) const;  // in place, element-wise
  // Exclusive prefix sum over ranks (0 on rank 0).
  long long exclusive_scan_sum(long long value) const;
  void broadcast(std::vector<double>& buffer, int root = 0) const;  // sizes must match
  void broadcast(std::string& text, int root = 0) const;
  void barrier() const;
  [[noreturn]] void abort(const std::string& message, int code = 1) const;

 private:
  Comm(int rank, int size) : rank_(rank), size_(size) {}
  int rank_, size_;
};

RowRange shard(Index n, int rank, int size);

// Thrown on every rank after a failed collective step; the message was already printed.
class CollectiveFailure : public std::exception {
 public:
  const char* what() const noexcept override { return "collective step failed"; }
};

void run_collectively(const Comm& comm, const std::function<void()>& step);

}  // namespace scorematch::dist
