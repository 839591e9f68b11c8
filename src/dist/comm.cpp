#include "scorematch/dist/comm.hpp"

#include <mpi.h>

#include <climits>
#include <iostream>

#include "scorematch/core/error.hpp"

namespace scorematch::dist {

namespace {
int node_ranks = 1;  // set once by Environment, on every rank (MPI_Comm_split_type is collective)

int to_int(std::size_t n) {
  if (n > static_cast<std::size_t>(INT_MAX)) throw Error("MPI message too large");
  return static_cast<int>(n);
}
}  // namespace

Environment::Environment(int& argc, char**& argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  MPI_Comm_size(node, &node_ranks);
  MPI_Comm_free(&node);
}

int ranks_on_this_node() {
  return node_ranks;
}

Environment::~Environment() {
  MPI_Finalize();
}

Comm Comm::world() {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return Comm(rank, size);
}

void Comm::allreduce_sum(std::vector<double>& buffer) const {
  MPI_Allreduce(MPI_IN_PLACE, buffer.data(), to_int(buffer.size()), MPI_DOUBLE, MPI_SUM,
                MPI_COMM_WORLD);
}

void Comm::allreduce_max(std::vector<double>& buffer) const {
  MPI_Allreduce(MPI_IN_PLACE, buffer.data(), to_int(buffer.size()), MPI_DOUBLE, MPI_MAX,
                MPI_COMM_WORLD);
}

long long Comm::exclusive_scan_sum(long long value) const {
  long long result = 0;
  MPI_Exscan(&value, &result, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
  return rank_ == 0 ? 0 : result;  // MPI leaves rank 0's result undefined
}

void Comm::broadcast(std::vector<double>& buffer, int root) const {
  MPI_Bcast(buffer.data(), to_int(buffer.size()), MPI_DOUBLE, root, MPI_COMM_WORLD);
}

void Comm::broadcast(std::string& text, int root) const {
  long long length = static_cast<long long>(text.size());
  MPI_Bcast(&length, 1, MPI_LONG_LONG, root, MPI_COMM_WORLD);
  text.resize(static_cast<std::size_t>(length));
  MPI_Bcast(text.data(), to_int(text.size()), MPI_CHAR, root, MPI_COMM_WORLD);
}

void Comm::barrier() const {
  MPI_Barrier(MPI_COMM_WORLD);
}

void Comm::abort(const std::string& message, int code) const {
  std::cerr << "scorematch: rank " << rank_ << " of " << size_ << ": fatal: " << message
            << std::endl;
  MPI_Abort(MPI_COMM_WORLD, code);
  std::abort();  // MPI_Abort does not return; keeps [[noreturn]] honest
}

int Comm::allreduce_min(int value) const {
  int result = value;
  MPI_Allreduce(&value, &result, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return result;
}

}  // namespace scorematch::dist
