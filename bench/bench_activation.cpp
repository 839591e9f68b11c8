// The hidden-layer activation kernel alone: values/s for σ and σ' (a value/gradient sweep, as in
// ULA) and for σ … σ''' (a jet sweep), on one 256 × 128 layer buffer (L2-resident, like one
// thread's chunk in a training step). Inputs are N(0, 2²), the range of trained pre-activations.
//   BM_Activation/<activation>/<float64|float32>/<derivatives: 1 or 3>
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "scorematch/models/activation.hpp"

using namespace scorematch;

namespace {

template <class T>
void activation(benchmark::State& state, Activation act, bool third) {
  constexpr Index n = 256 * 128;
  std::vector<T> a(n), s0(n), s1(n), s2(n), s3(n);
  std::mt19937_64 gen(1);
  std::normal_distribution<double> normal(0.0, 2.0);
  for (auto& v : a) v = static_cast<T>(normal(gen));
  for (auto _ : state) {
    activation_derivatives<T>(act, a.data(), n, s0.data(), s1.data(), third ? s2.data() : nullptr,
                              third ? s3.data() : nullptr);
    benchmark::DoNotOptimize(s0.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n);
}

const int kRegistered = [] {
  for (const auto& name : activation_names())
    for (const bool third : {false, true}) {
      const std::string suffix = "/" + name + (third ? "/derivatives:3" : "/derivatives:1");
      const Activation act = parse_activation(name);
      benchmark::RegisterBenchmark(("BM_Activation/float64" + suffix).c_str(),
                                   [=](benchmark::State& s) { activation<double>(s, act, third); });
      benchmark::RegisterBenchmark(("BM_Activation/float32" + suffix).c_str(),
                                   [=](benchmark::State& s) { activation<float>(s, act, third); });
    }
  return 0;
}();

}  // namespace
