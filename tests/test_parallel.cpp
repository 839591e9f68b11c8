// The thread backend: every index visited once, reductions bitwise independent of thread count,
// exceptions carried out of the parallel region.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>

#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"

using namespace scorematch;

namespace {
// A sum whose floating-point result depends on the order of additions.
double chunked_sum(Index n) {
  return parallel::deterministic_reduce(
      n, 1000, 0.0,
      [](Index b, Index e) {
        double s = 0;
        for (Index i = b; i < e; ++i)
          s += std::sin(static_cast<double>(i)) * 1e-3 + 1.0 / (1.0 + static_cast<double>(i));
        return s;
      },
      [](double& acc, double part) { acc += part; });
}
}  // namespace

TEST(Parallel, ForEachChunkVisitsEveryIndexOnce) {
  const Index n = 100'003;
  std::vector<std::atomic<int>> seen(n);
  parallel::for_each_chunk(n, 997, [&](Index, Index b, Index e) {
    for (Index i = b; i < e; ++i) seen[static_cast<std::size_t>(i)]++;
  });
  for (const auto& s : seen) ASSERT_EQ(s.load(), 1);
}

TEST(Parallel, DeterministicReduceIsBitwiseIdenticalForAnyThreadCount) {
  parallel::set_num_threads(1);
  const double one = chunked_sum(1'000'000);
  for (int threads : {2, 3, 4}) {
    parallel::set_num_threads(threads);
    EXPECT_EQ(one, chunked_sum(1'000'000)) << threads << " threads";
  }
  parallel::set_num_threads(0);
}

TEST(Parallel, ExceptionFromTheLowestFailingChunkIsRethrown) {
  try {
    parallel::for_each_chunk(10'000, 100, [](Index chunk, Index, Index) {
      if (chunk == 7 || chunk == 50) throw Error("chunk " + std::to_string(chunk));
    });
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "chunk 7");
  }
}
