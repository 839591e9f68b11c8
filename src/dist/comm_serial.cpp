// The one-process Comm of a build without MPI (-DSCOREMATCH_MPI=OFF): rank 0 of 1, every
// collective the identity. Everything else of scorematch runs unchanged on it.
#include <cstdlib>
#include <iostream>

#include "scorematch/dist/comm.hpp"

namespace scorematch::dist {

Environment::Environment(int&, char**&) {}
Environment::~Environment() = default;

int ranks_on_this_node() {
  return 1;
}

Comm Comm::world() {
  return Comm(0, 1);
}

void Comm::allreduce_sum(std::vector<double>&) const {}
void Comm::allreduce_max(std::vector<double>&) const {}
long long Comm::exclusive_scan_sum(long long) const {
  return 0;
}
void Comm::broadcast(std::vector<double>&, int) const {}
void Comm::broadcast(std::string&, int) const {}
void Comm::barrier() const {}
int Comm::allreduce_min(int value) const {
  return value;
}

void Comm::abort(const std::string& message, int code) const {
  std::cerr << "scorematch: fatal: " << message << std::endl;
  std::exit(code);
}

}  // namespace scorematch::dist
