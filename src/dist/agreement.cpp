// What every Comm implementation (MPI: comm.cpp, serial: comm_serial.cpp) shares: the row shard
// and the error agreement of run_collectively.
#include <iostream>

#include "scorematch/core/error.hpp"
#include "scorematch/dist/comm.hpp"

namespace scorematch::dist {

RowRange shard(Index n, int rank, int size) {
  return balanced_range(n, rank, size);
}

void run_collectively(const Comm& comm, const std::function<void()>& step) {
  std::string message;
  try {
    step();
  } catch (const Error& e) {
    message = e.what();
  } catch (const CollectiveFailure&) {
    message = "\x01";  // a nested collective step failed and already reported it
  }
  int my_failure = message.empty() ? comm.size() : comm.rank();
  const int first_failure = comm.allreduce_min(my_failure);
  if (first_failure == comm.size()) return;
  if (first_failure == comm.rank() && message != "\x01")
    std::cerr << "scorematch: error: " << message
              << (comm.size() > 1 ? " (rank " + std::to_string(comm.rank()) + " of " +
                                        std::to_string(comm.size()) + ")"
                                  : std::string())
              << std::endl;
  throw CollectiveFailure();
}

}  // namespace scorematch::dist
