// The thread backend: parallel loops and reductions over index ranges, implemented with oneTBB
// (the default, SCOREMATCH_THREADS=tbb) or OpenMP (configure with -DSCOREMATCH_THREADS=openmp).
// Nothing else in the project touches OpenMP or TBB directly.
//
// Determinism: [0, n) is cut into fixed chunks of `grain` indices, independent of the thread count.
// deterministic_reduce computes one partial per chunk and combines them in chunk order, so its
// result is bitwise identical for 1, 2, ... threads.
#pragma once
#include <algorithm>
#include <functional>
#include <vector>

#include "scorematch/core/long_accumulator.hpp"
#include "scorematch/core/types.hpp"

namespace scorematch::parallel {

// Name of the compiled backend: "openmp" or "tbb".
const char* backend_name();
// Threads used by parallel loops; set_num_threads(0) restores the backend default.
int num_threads();
void set_num_threads(int n);
// For per-thread scratch space: the calling thread's slot inside a parallel loop, always
// < max_thread_slots() (0 outside parallel loops).
int thread_index();
int max_thread_slots();

// Calls body(chunk, begin, end) for every chunk of [0, n) (chunk = begin / grain), in parallel.
void for_each_chunk(Index n, Index grain, const std::function<void(Index, Index, Index)>& body);

inline Index num_chunks(Index n, Index grain) {
  return n <= 0 ? 0 : (n + grain - 1) / grain;
}

// map(begin, end) -> T for each chunk; combine(acc, partial) folds partials in chunk order.
template <class T, class Map, class Combine>
T deterministic_reduce(Index n, Index grain, T identity, Map map, Combine combine) {
  std::vector<T> partials(static_cast<std::size_t>(num_chunks(n, grain)), identity);
  for_each_chunk(n, grain, [&](Index chunk, Index begin, Index end) {
    partials[static_cast<std::size_t>(chunk)] = map(begin, end);
  });
  T total = std::move(identity);
  for (const T& partial : partials) combine(total, partial);
  return total;
}

// map(begin, end) -> std::vector<double> of length m for each chunk; the exact sum of all chunks'
// vectors (core/long_accumulator.hpp). Order-free: bitwise for any number of threads, and for any
// number of ranks when the chunks are the same global rows on every decomposition (the caller
// then reduces the limbs over ranks).
template <class Map>
ExactVectorSum exact_reduce(Index n, Index grain, std::size_t m, Map map) {
  std::vector<ExactVectorSum> slots(static_cast<std::size_t>(max_thread_slots()),
                                    ExactVectorSum(0));
  std::vector<char> used(slots.size(), 0);
  for_each_chunk(n, grain, [&](Index, Index begin, Index end) {
    const std::vector<double> partial = map(begin, end);
    const auto t = static_cast<std::size_t>(thread_index());
    if (!used[t]) {
      slots[t] = ExactVectorSum(m);
      used[t] = 1;
    }
    slots[t].add(partial);
  });
  ExactVectorSum total(m);
  for (std::size_t t = 0; t < slots.size(); ++t)
    if (used[t]) total.merge(slots[t]);
  return total;
}

}  // namespace scorematch::parallel
