// Sufficient-statistics accumulation for closed-form score matching, against a DGEMM baseline
// measured in the same binary:
//   BM_GaussianStats/n/d/threads  Σ(x−c), Σ(x−c)(x−c)ᵀ per 4096-row chunk (SYRK), n·d(d+1) flops
//   BM_Poly4Moments/n/d/threads   all moments of degree ≤ 6 (= 2K−2), 2 flops per row and moment
//   BM_DgemmSameShape/n/d      Xᵀ X by Eigen GEMM on the same data, 2·n·d² flops (1 thread)
//   BM_DgemmSquare/m           m×m×m Eigen GEMM: the machine's practical single-core peak
// Run: build/scorematch_bench --benchmark_out=bench.json --benchmark_out_format=json
#include <benchmark/benchmark.h>

#include <map>

#include "scorematch/core/allocator_tuning.hpp"
#include "scorematch/core/parallel.hpp"
#include "scorematch/estimators/gaussian_sm.hpp"
#include "scorematch/estimators/polynomial_sm.hpp"
#include "scorematch/models/targets.hpp"

using namespace scorematch;

namespace {
// Data are generated once per shape and shared by all benchmarks.
const Matrix& data(Index n, Index d) {
  static std::map<std::pair<Index, Index>, Matrix> cache;
  auto it = cache.find({n, d});
  if (it == cache.end())
    it = cache.emplace(std::pair{n, d}, draw_rows(*make_target("gaussian", d), 1, {0, n})).first;
  return it->second;
}

void set_rates(benchmark::State& state, double flops_per_iteration, Index rows) {
  state.SetItemsProcessed(state.iterations() * rows);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops_per_iteration * static_cast<double>(state.iterations()) * 1e-9,
                         benchmark::Counter::kIsRate);
}

void BM_GaussianStats(benchmark::State& state) {
  const Index n = state.range(0), d = state.range(1);
  parallel::set_num_threads(static_cast<int>(state.range(2)));
  const Matrix& x = data(n, d);
  const Vector ref = x.row(0).transpose();
  for (auto _ : state) benchmark::DoNotOptimize(accumulate_gaussian_stats(x, ref));
  set_rates(state, static_cast<double>(n * d * (d + 1)), n);
  parallel::set_num_threads(0);
}

void BM_Poly4Moments(benchmark::State& state) {
  const Index n = state.range(0), d = state.range(1);
  parallel::set_num_threads(static_cast<int>(state.range(2)));
  const Matrix& x = data(n, d);
  const MomentTable table(d, 6);
  const Vector shift = Vector::Zero(d), scale = Vector::Ones(d);
  for (auto _ : state) benchmark::DoNotOptimize(accumulate_moments(x, shift, scale, table));
  set_rates(state, 2.0 * static_cast<double>(n * table.size()), n);
  state.counters["moments"] = static_cast<double>(table.size());
  parallel::set_num_threads(0);
}

void BM_DgemmSameShape(benchmark::State& state) {
  const Index n = state.range(0), d = state.range(1);
  const Matrix& x = data(n, d);
  Eigen::MatrixXd c(d, d);
  for (auto _ : state) {
    c.noalias() = x.transpose() * x;
    benchmark::DoNotOptimize(c.data());
  }
  set_rates(state, 2.0 * static_cast<double>(n * d * d), n);
}

void BM_DgemmSquare(benchmark::State& state) {
  const Index m = state.range(0);
  const Eigen::MatrixXd a = data(m, m), b = a.transpose();
  Eigen::MatrixXd c(m, m);
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
  }
  set_rates(state, 2.0 * static_cast<double>(m * m * m), m);
}
}  // namespace

constexpr long kRows = 1'000'000;
BENCHMARK(BM_GaussianStats)
    ->ArgsProduct({{kRows}, {2, 16, 64}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
// poly:4 at d = 16 would need 74 613 moments per row (and d = 64, 1.3·10⁸): d ∈ {2, 4, 8} instead.
BENCHMARK(BM_Poly4Moments)
    ->ArgsProduct({{kRows}, {2, 4, 8}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_DgemmSameShape)
    ->ArgsProduct({{kRows}, {2, 16, 64}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_DgemmSquare)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();

// As the CLI does (core/allocator_tuning.hpp): step-sized buffers stay in the heap.
int main(int argc, char** argv) {
  scorematch::tune_allocator();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
