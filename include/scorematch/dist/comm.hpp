// MPI, behind a small interface. This is the only part of scorematch that includes <mpi.h>
// (src/dist/comm.cpp; src/dist/comm_serial.cpp is the one-process build, -DSCOREMATCH_MPI=OFF).
//  - Environment: MPI_Init_thread / MPI_Finalize (threads call no MPI: MPI_THREAD_FUNNELED);
//    ranks_on_this_node(): how many ranks share this rank's node (MPI_COMM_TYPE_SHARED), counted
//    once at start-up, for memory checks that must hold per node, not per rank.
//  - Comm: the collective seam of core/collective.hpp (sum, max, broadcast) over MPI_COMM_WORLD,
//    plus what only the drivers need (prefix sum, barrier, abort).
//  - shard(): the balanced contiguous row range a rank owns; rank 0 always owns row 0.
//  - run_collectively(): error agreement. A bad row is seen by one rank only; instead of letting
//    the others hang in the next collective, every rank runs the step, then all agree on whether
//    any failed; the lowest failing rank prints its message and every rank throws
//    CollectiveFailure carrying the exit code of that rank's error (main returns it: 2 for a
//    SettingError, a usage error, 1 otherwise), so that every rank ends with the same code.
#pragma once
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "scorematch/core/collective.hpp"
#include "scorematch/core/types.hpp"

namespace scorematch::dist {

class Environment {
 public:
  Environment(int& argc, char**& argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
};

// The number of ranks on this rank's node (1 before Environment and in the serial build).
int ranks_on_this_node();

// MPI_COMM_WORLD behind the library's collective seam (core/collective.hpp).
class Comm final : public Collective {
 public:
  static Comm world();
  using Collective::allreduce_max;
  using Collective::allreduce_sum;
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allreduce_sum(std::vector<double>& buffer) const override;  // in place
  void allreduce_max(std::vector<double>& buffer) const override;  // in place, element-wise
  // Exclusive prefix sum over ranks (0 on rank 0).
  long long exclusive_scan_sum(long long value) const;
  void broadcast(std::vector<double>& buffer, int root = 0) const override;  // sizes must match
  void broadcast(std::string& text, int root = 0) const override;
  void barrier() const;
  int allreduce_min(int value) const;
  [[noreturn]] void abort(const std::string& message, int code = 1) const;

 private:
  Comm(int rank, int size) : rank_(rank), size_(size) {}
  int rank_, size_;
};

RowRange shard(Index n, int rank, int size);

// Thrown on every rank after a failed collective step; the message was already printed.
// exit_code(): 2 when the lowest failing rank's error was a SettingError (a usage error), else 1.
class CollectiveFailure : public std::exception {
 public:
  explicit CollectiveFailure(int exit_code = 1) : exit_code_(exit_code) {}
  const char* what() const noexcept override { return "collective step failed"; }
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

void run_collectively(const Comm& comm, const std::function<void()>& step);

}  // namespace scorematch::dist
