// One training step (forward + loss + θ-gradient, no optimiser update) of an MLP with 3 hidden
// layers of width 128 (softplus), batch 256, for exact ISM, SSM (m = 1), DSM (single σ) and NCE
// (ν = 10 noise rows per sample; energy models only):
//   BM_TrainStep/<objective>/<model>/d/dtype(0 = float64, 1 = float32)/threads
// Counters: items/s = samples/s; GFLOP/s = the jets' GEMM flops (counted from the shapes of the
// GEMMs actually run, 2·M·N·K each) per second. BM_GemmBaseline runs the dominant GEMM shape of
// the same configuration, (rows × 128) · (128 × 128) with rows = the stacked jet rows of one
// 2048-row-per-chunk batch, split over the same threads, as the achievable-rate reference.
#include <benchmark/benchmark.h>

#include <string>

#include "scorematch/core/parallel.hpp"
#include "scorematch/models/targets.hpp"
#include "scorematch/objectives/batch_gradient.hpp"

using namespace scorematch;

namespace {

constexpr Index kBatch = 256, kWidth = 128;
const char* kObjectives[] = {"ism", "ssm", "dsm", "nce"};

MlpSpec spec_for(Index d, bool energy) {
  MlpSpec spec;
  spec.dim = d;
  spec.hidden = {kWidth, kWidth, kWidth};
  spec.output = energy ? MlpOutput::energy : MlpOutput::score;
  spec.activation = Activation::softplus;
  return spec;
}

ObjectiveSettings settings_for(const std::string& name) {
  ObjectiveSettings s;
  s.name = name;
  s.projections = 1;
  s.sigma = 0.1;
  s.noise_ratio = 10;  // nce: 11 stacked rows per sample (one value + one reverse sweep)
  return s;
}

template <class T>
void train_step(benchmark::State& state, const std::string& objective_name, bool energy) {
  const Index d = state.range(0);
  parallel::set_num_threads(static_cast<int>(state.range(1)));
  const MlpSpec spec = spec_for(d, energy);
  const auto objective = make_objective(settings_for(objective_name));
  const Vector theta = init_mlp_parameters(spec, 1);
  const Matrix x = draw_rows(*make_target("gaussian", d), 2, {0, kBatch});
  std::vector<std::uint64_t> streams(kBatch);
  for (Index i = 0; i < kBatch; ++i)
    streams[static_cast<std::size_t>(i)] = static_cast<std::uint64_t>(i);
  BatchInput input;
  input.x = &x;
  input.streams = &streams;
  input.seed = 3;
  JetPool<T> pool(spec);
  batch_sums(*objective, spec, theta, input, true, pool);  // warm-up: allocate scratch space
  const double flops_before = pool.gemm_flops();
  std::uint32_t step = 0;
  for (auto _ : state) {
    input.step = ++step;
    benchmark::DoNotOptimize(batch_sums(*objective, spec, theta, input, true, pool));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["GFLOP/s"] =
      benchmark::Counter((pool.gemm_flops() - flops_before) * 1e-9, benchmark::Counter::kIsRate);
  state.counters["ms/step"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 1e-3,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  parallel::set_num_threads(0);
}

// The dominant GEMM of a step with K tangents per sample: (B(K+2) × 128)·(128 × 128), split into
// the same row chunks over the same threads as the training step.
template <class T>
void gemm_baseline(benchmark::State& state) {
  const Index rows = state.range(0);
  parallel::set_num_threads(static_cast<int>(state.range(1)));
  const Index chunk = std::max<Index>(1, rows / 8);
  MatrixT<T> a = MatrixT<T>::Constant(rows, kWidth, T(0.5)),
             w = MatrixT<T>::Constant(kWidth, kWidth, T(0.25));
  MatrixT<T> c(rows, kWidth);
  for (auto _ : state) {
    parallel::for_each_chunk(rows, chunk, [&](Index, Index b, Index e) {
      c.middleRows(b, e - b).noalias() = a.middleRows(b, e - b) * w.transpose();
    });
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(rows) * kWidth * kWidth *
                                                     static_cast<double>(state.iterations()) * 1e-9,
                                                 benchmark::Counter::kIsRate);
  parallel::set_num_threads(0);
}

const bool registered = [] {
  for (const char* objective : kObjectives) {
    for (bool energy : {true, false}) {
      if (!energy && std::string(objective) == "nce") continue;  // NCE needs an energy
      for (int dtype : {0, 1}) {
        const std::string name = std::string("BM_TrainStep/") + objective + "/" +
                                 (energy ? "energy" : "score") + (dtype ? "/float32" : "/float64");
        auto* b = dtype ? benchmark::RegisterBenchmark(
                              name.c_str(),
                              [=](benchmark::State& s) { train_step<float>(s, objective, energy); })
                        : benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) {
                            train_step<double>(s, objective, energy);
                          });
        b->ArgNames({"d", "threads"})->Unit(benchmark::kMillisecond)->UseRealTime();
        for (Index d : {2, 16, 64, 256})
          for (int threads : {1, 2}) b->Args({d, threads});
      }
    }
  }
  for (int dtype : {0, 1}) {
    auto* b = dtype
                  ? benchmark::RegisterBenchmark("BM_GemmBaseline/float32", gemm_baseline<float>)
                  : benchmark::RegisterBenchmark("BM_GemmBaseline/float64", gemm_baseline<double>);
    b->ArgNames({"rows", "threads"})->Unit(benchmark::kMillisecond)->UseRealTime();
    for (Index d : {2, 16, 64, 256})
      for (int threads : {1, 2}) b->Args({kBatch * (d + 2), threads});
  }
  return true;
}();

}  // namespace
