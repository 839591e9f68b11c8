// Langevin sampling throughput and the KSD kernel:
//   BM_Ula/<model>/d/threads    one ULA transition of 1024 chains (ChainRunner, blocks of 64):
//                               model 0 = 64-D Gaussian (dense precision), 1 = MLP energy 3×128
//                               softplus (score = forward + input-adjoint reverse sweep), 2 = the
//                               same MLP evaluated in float32;
//                               items/s = chain-steps/s; GFLOP/s from the layer shapes
//                               (forward 2·Σ in·out + reverse 2·Σ in·out per chain, float64).
//   BM_Mala/1/d/threads         the same for MALA with an MLP energy (one energy+score per step).
//   BM_Hmc/1/d/threads          HMC with L = 10 leapfrog steps (10 energy+score evaluations per
//                               chain-step); items/s = chain-steps/s, evaluations/s as a counter.
//   BM_Pt/1/d/threads           parallel tempering with K = 4 replicas (4 evaluations per
//                               chain-step, one batched call of 4 × 64 rows per block, swaps
//                               included); items/s = chain-steps/s, evaluations/s as a counter.
//   BM_Ais/<model>/d/threads    annealed importance sampling (estimators/ais.hpp) on the same
//                               models: 1024 chains × 32 temperatures (one MALA move each, no
//                               tuning run) per iteration; items/s = chain-steps/s, to compare
//                               with BM_Mala of the same arguments (issue: within 10%).
//   BM_SamplingGemm/threads     the reference rate: (64 × 128)·(128 × 128) GEMMs, one per chain
//                               block of 1024 chains, blocks split over the same threads.
//   BM_KsdKernel/n/d            Σ_ij u(x_i, x_j) over 2048 rows × all n columns (IMQ Stein kernel);
//                               items/s = pairs/s; GFLOP/s counts 8d GEMM flops per pair (x·x, s·s,
//                               s·x, x·s) — the elementwise kernel work (≈ 20 flops, one sqrt) is
//                               extra; BM_KsdGemm is a same-shape GEMM for comparison.
#include <benchmark/benchmark.h>

#include "scorematch/core/parallel.hpp"
#include "scorematch/diagnostics/stein.hpp"
#include "scorematch/estimators/ais.hpp"
#include "scorematch/models/gaussian_model.hpp"
#include "scorematch/models/mlp_model.hpp"
#include "scorematch/models/targets.hpp"
#include "scorematch/sampling/chain_runner.hpp"

using namespace scorematch;

namespace {

constexpr Index kChains = 1024, kWidth = 128;

Matrix normal_rows(Index n, Index d, std::uint64_t seed) {
  Matrix x(n, d);
  for (Index r = 0; r < n; ++r) {
    RandomStream rng(seed, static_cast<std::uint64_t>(r));
    for (Index j = 0; j < d; ++j) x(r, j) = rng.normal();
  }
  return x;
}

// kind 0: Gaussian; 1: MLP energy in float64; 2: the same MLP evaluated in float32.
std::unique_ptr<ScoreModel> bench_model(int kind, Index d) {
  if (kind == 0) {
    const Matrix a = normal_rows(d, d, 5);
    const Matrix precision = a * a.transpose() / static_cast<double>(d) + Matrix::Identity(d, d);
    return std::make_unique<GaussianModel>(Vector::Zero(d), precision);
  }
  MlpSpec spec;
  spec.dim = d;
  spec.hidden = {kWidth, kWidth, kWidth};
  spec.activation = Activation::softplus;
  auto model = std::make_unique<MlpModel>(spec, init_mlp_parameters(spec, 1), Vector::Zero(d),
                                          Vector::Ones(d));
  model->use_float32(kind == 2);
  return model;
}

double mlp_flops_per_chain(Index d) {
  const double layers = static_cast<double>(d * kWidth + 2 * kWidth * kWidth + kWidth);
  return 4.0 * layers;  // forward + input-adjoint reverse sweep, 2 flops per multiply-add
}

void run_sampler(benchmark::State& state, const std::string& name) {
  const int kind = static_cast<int>(state.range(0));
  const Index d = state.range(1);
  parallel::set_num_threads(static_cast<int>(state.range(2)));
  const auto model = bench_model(kind, d);
  SamplerSettings s;
  s.name = name;
  s.step_size = 1e-3;
  s.steps = Index{1} << 30;
  s.thin = s.steps;  // no draws kept
  s.adapt = false;
  const auto sampler = make_sampler(s, {model.get(), nullptr});
  ChainRunner runner(*sampler, {0, kChains}, normal_rows(kChains, d, 3), Vector::Zero(d),
                     Vector::Ones(d));
  for (auto _ : state) runner.advance(runner.step() + 1);
  state.SetItemsProcessed(state.iterations() * kChains);
  if (kind >= 1)
    state.counters["GFLOP/s"] =
        benchmark::Counter(mlp_flops_per_chain(d) * static_cast<double>(kChains) *
                               static_cast<double>(state.iterations()) * 1e-9,
                           benchmark::Counter::kIsRate);
  parallel::set_num_threads(0);
}

// One transition of 1024 chains of `name` per iteration, with `evaluations` model calls per
// chain-step (for the evaluations/s counter).
void run_with_evaluations(benchmark::State& state, SamplerSettings s, double evaluations) {
  const int kind = static_cast<int>(state.range(0));
  const Index d = state.range(1);
  parallel::set_num_threads(static_cast<int>(state.range(2)));
  const auto model = bench_model(kind, d);
  s.steps = Index{1} << 30;
  s.thin = s.steps;
  s.adapt = false;
  s.reference_mean = Vector::Zero(d);
  s.reference_sd = Vector::Ones(d);
  const auto sampler = make_sampler(s, {model.get(), nullptr});
  ChainRunner runner(*sampler, {0, kChains}, normal_rows(kChains, d, 3), Vector::Zero(d),
                     Vector::Ones(d));
  for (auto _ : state) runner.advance(runner.step() + 1);
  state.SetItemsProcessed(state.iterations() * kChains);
  state.counters["evaluations/s"] = benchmark::Counter(
      evaluations * static_cast<double>(kChains) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
  parallel::set_num_threads(0);
}

void BM_Hmc(benchmark::State& state) {
  SamplerSettings s;
  s.name = "hmc";
  s.step_size = 1e-2;
  run_with_evaluations(state, s, static_cast<double>(s.leapfrog_steps));
}

void BM_Pt(benchmark::State& state) {
  SamplerSettings s;
  s.name = "pt";
  s.step_size = 1e-2;
  s.replicas = 4;
  run_with_evaluations(state, s, static_cast<double>(s.replicas));
}

void BM_Ula(benchmark::State& state) {
  run_sampler(state, "ula");
}
void BM_Mala(benchmark::State& state) {
  run_sampler(state, "mala");
}

void BM_Ais(benchmark::State& state) {
  const int kind = static_cast<int>(state.range(0));
  const Index d = state.range(1);
  parallel::set_num_threads(static_cast<int>(state.range(2)));
  const auto model = bench_model(kind, d);
  AisSettings s;
  s.chains = kChains;
  s.temps = 33;  // 32 temperatures with a MALA move (the last has none)
  s.tune_chains = 0;
  s.initial_step = 1e-3;
  const DiagonalGaussian base{Vector::Zero(d), Vector::Ones(d)};
  for (auto _ : state) benchmark::DoNotOptimize(ais_log_z(SerialCollective(), *model, base, s));
  state.SetItemsProcessed(state.iterations() * kChains * (s.temps - 1));
  parallel::set_num_threads(0);
}

void BM_SamplingGemm(benchmark::State& state) {
  parallel::set_num_threads(static_cast<int>(state.range(0)));
  const Matrix w = normal_rows(kWidth, kWidth, 1);
  const Matrix h = normal_rows(kChains, kWidth, 2);
  Matrix out(kChains, kWidth);
  for (auto _ : state) {
    parallel::for_each_chunk(kChains, kChainBlock, [&](Index, Index b, Index e) {
      out.middleRows(b, e - b).noalias() = h.middleRows(b, e - b) * w.transpose();
    });
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * kWidth * kWidth * kChains * static_cast<double>(state.iterations()) * 1e-9,
      benchmark::Counter::kIsRate);
  parallel::set_num_threads(0);
}

constexpr Index kKsdRows = 2048;

void BM_KsdKernel(benchmark::State& state) {
  const Index n = state.range(0), d = state.range(1);
  const Matrix x = normal_rows(n, d, 7);
  const Matrix s = -x;  // the N(0, I) score
  for (auto _ : state) benchmark::DoNotOptimize(diagnostics::imq_stein_sum(x, s, {0, kKsdRows}));
  const double pairs = static_cast<double>(kKsdRows) * static_cast<double>(n);
  state.SetItemsProcessed(static_cast<std::int64_t>(pairs) * state.iterations());
  state.counters["GFLOP/s"] = benchmark::Counter(
      8.0 * static_cast<double>(d) * pairs * static_cast<double>(state.iterations()) * 1e-9,
      benchmark::Counter::kIsRate);
}

void BM_KsdGemm(benchmark::State& state) {
  const Index n = state.range(0), d = state.range(1);
  const Matrix x = normal_rows(n, d, 7);
  Matrix out(diagnostics::kPairBlock, diagnostics::kPairBlock);
  for (auto _ : state)
    for (Index i = 0; i < kKsdRows; i += diagnostics::kPairBlock)
      for (Index j = 0; j < n; j += diagnostics::kPairBlock) {
        const Index nj = std::min(diagnostics::kPairBlock, n - j);
        out.leftCols(nj).noalias() =
            x.middleRows(i, diagnostics::kPairBlock) * x.middleRows(j, nj).transpose();
        benchmark::DoNotOptimize(out.data());
      }
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * static_cast<double>(d) * static_cast<double>(kKsdRows) * static_cast<double>(n) *
          static_cast<double>(state.iterations()) * 1e-9,
      benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_Ula)
    ->ArgsProduct({{0}, {64}, {1, 2}})
    ->ArgsProduct({{1, 2}, {2, 64}, {1, 2}})
    ->ArgNames({"model", "d", "threads"})
    ->UseRealTime();
BENCHMARK(BM_Mala)
    ->ArgsProduct({{1, 2}, {2, 64}, {1, 2}})
    ->ArgNames({"model", "d", "threads"})
    ->UseRealTime();
BENCHMARK(BM_Hmc)
    ->ArgsProduct({{1}, {2, 64}, {1, 2}})
    ->ArgNames({"model", "d", "threads"})
    ->UseRealTime();
BENCHMARK(BM_Pt)
    ->ArgsProduct({{1}, {2, 64}, {1, 2}})
    ->ArgNames({"model", "d", "threads"})
    ->UseRealTime();
BENCHMARK(BM_Ais)
    ->ArgsProduct({{1, 2}, {2, 64}, {1, 2}})
    ->ArgNames({"model", "d", "threads"})
    ->UseRealTime();
BENCHMARK(BM_SamplingGemm)->Arg(1)->Arg(2)->ArgNames({"threads"})->UseRealTime();
BENCHMARK(BM_KsdKernel)->Args({20000, 2})->Args({20000, 16})->ArgNames({"n", "d"});
BENCHMARK(BM_KsdGemm)->Args({20000, 2})->Args({20000, 16})->ArgNames({"n", "d"});
