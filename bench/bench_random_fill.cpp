// Bulk standard normals (core/random_fill.hpp): one call fills 256 rows × d, the noise of one DSM
// step or one ULA transition of 256 chains. items/s = normals/s.
//   BM_FillNormals/<float64|float32>/d
#include <benchmark/benchmark.h>

#include <vector>

#include "scorematch/core/random_fill.hpp"

using namespace scorematch;

namespace {

template <class T>
void fill_normals(benchmark::State& state) {
  constexpr Index kRows = 256;
  const Index d = state.range(0);
  std::vector<std::uint64_t> streams(kRows);
  for (Index r = 0; r < kRows; ++r) streams[static_cast<std::size_t>(r)] = 1000 + 7 * r;
  std::vector<T> out(static_cast<std::size_t>(kRows * d));
  std::uint32_t step = 0;
  for (auto _ : state) {
    fill_normal_rows(11, streams.data(), 0, ++step, kRows, d, out.data(), d);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kRows * d);
}

BENCHMARK(fill_normals<double>)
    ->Name("BM_FillNormals/float64")
    ->Arg(2)
    ->Arg(64)
    ->Arg(256)
    ->ArgNames({"d"});
BENCHMARK(fill_normals<float>)
    ->Name("BM_FillNormals/float32")
    ->Arg(2)
    ->Arg(64)
    ->Arg(256)
    ->ArgNames({"d"});

}  // namespace
