// What every Comm implementation (MPI: comm.cpp, serial: comm_serial.cpp) shares: the row shard
// and the error agreement of run_collectively.
#include <iostream>
#include <new>
#include <stdexcept>

#include "scorematch/core/error.hpp"
#include "scorematch/dist/comm.hpp"

namespace scorematch::dist {

RowRange shard(Index n, int rank, int size) {
  return balanced_range(n, rank, size);
}

void run_collectively(const Comm& comm, const std::function<void()>& step) {
  std::string message;
  int code = 1;  // the exit code of this rank's failure
  try {
    step();
  } catch (const SettingError& e) {
    message = e.what();
    code = 2;
  } catch (const Error& e) {
    message = e.what();
  } catch (const std::bad_alloc&) {
    message = out_of_memory_message();
  } catch (const std::length_error&) {  // a container asked for more than max_size()
    message = out_of_memory_message();
  } catch (const CollectiveFailure& f) {
    message = "\x01";  // a nested collective step failed and already reported it
    code = f.exit_code();
  }
  // One reduction agrees on both the lowest failing rank and its code: 2 rank + (code − 1).
  const int my_failure = message.empty() ? 2 * comm.size() : 2 * comm.rank() + (code - 1);
  const int first = comm.allreduce_min(my_failure);
  if (first == 2 * comm.size()) return;
  if (first / 2 == comm.rank() && message != "\x01")
    std::cerr << "scorematch: error: " << message
              << (comm.size() > 1 ? " (rank " + std::to_string(comm.rank()) + " of " +
                                        std::to_string(comm.size()) + ")"
                                  : std::string())
              << std::endl;
  throw CollectiveFailure(first % 2 + 1);
}

}  // namespace scorematch::dist
