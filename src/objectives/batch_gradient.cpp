#include "scorematch/objectives/batch_gradient.hpp"

#include <algorithm>
#include <type_traits>

#include "scorematch/core/parallel.hpp"

namespace scorematch {

Index batch_grain(const Objective& objective, const MlpSpec& spec) {
  // A power of two, so power-of-two batches split evenly over 1, 2, 4, … threads.
  const Index per_sample = objective.tangents(spec) + 2;
  Index grain = 4;
  while (grain < 64 && 2 * grain * per_sample <= 2048) grain *= 2;
  return grain;
}

template <class T>
void JetPool<T>::prepare() {
  const auto slots = static_cast<std::size_t>(parallel::max_thread_slots());
  while (jets_.size() < slots) jets_.push_back(std::make_unique<MlpJet<T>>(spec_));
}

template <class T>
double JetPool<T>::gemm_flops() const {
  double total = 0;
  for (const auto& jet : jets_) total += jet->gemm_flops();
  return total;
}

template <class T>
MlpJet<T>& JetPool<T>::local() {
  return *jets_.at(static_cast<std::size_t>(parallel::thread_index()));
}

template <class T>
void JetPool<T>::chunk_buffers(Index chunks, Index P) {
  if (static_cast<Index>(grads_.size()) < chunks) grads_.resize(static_cast<std::size_t>(chunks));
  for (auto& g : grads_)
    if (g.size() != P) g.resize(P);
}

// θ in precision T: float64 uses the caller's vector, float32 a rounded copy in `copy`.
template <class T>
const T* in_precision(const Vector& theta, VectorT<T>& copy) {
  if constexpr (std::is_same_v<T, double>) {
    (void)copy;
    return theta.data();
  } else {
    // Split over the threads: a serial cast of P ~ 10⁵ values would idle the other threads.
    copy.resize(theta.size());
    parallel::for_each_chunk(theta.size(), 16384, [&](Index, Index begin, Index end) {
      copy.segment(begin, end - begin) = theta.segment(begin, end - begin).template cast<T>();
    });
    return copy.data();
  }
}

// total += Σ over the wave's chunk gradients, in chunk order, in double, for each parameter: with
// the waves in order, the same sequence of additions as one pass over every chunk, so the sum is
// bitwise the same for any thread count and wave size. The parameter ranges are split over the
// threads (the sum is memory-bound), each range summed in L1-sized blocks so a total is read and
// written once per wave instead of once per chunk.
template <class T>
void add_chunk_gradients(JetPool<T>& pool, Index count, bool first_wave, Vector& total) {
  constexpr Index kParameterGrain = 4096, kBlock = 512;
  parallel::for_each_chunk(total.size(), kParameterGrain, [&](Index, Index begin, Index end) {
    for (Index first = begin; first < end; first += kBlock) {
      const Index len = std::min(kBlock, end - first);
      auto block = total.segment(first, len);
      if (first_wave) block.setZero();  // here, not before: the threads zero their own ranges
      for (Index c = 0; c < count; ++c)
        block += pool.chunk_grad(c).segment(first, len).template cast<double>();
    }
  });
}

Index chunks_in_flight(Index chunks, Index P, Index value_bytes) {
  // 256 MiB of gradients, and at least 4 chunks per thread so the threads stay busy.
  const Index budget = (Index{256} << 20) / std::max<Index>(1, P * value_bytes);
  return std::min(chunks, std::max<Index>(budget, 4 * parallel::max_thread_slots()));
}

template <class T>
BatchSums batch_sums(const Objective& objective, const MlpSpec& spec, const Vector& theta,
                     const BatchInput& input, bool want_grad, JetPool<T>& pool) {
  const Index n = input.x->rows(), P = spec.num_parameters();
  const Index grain = batch_grain(objective, spec), chunks = parallel::num_chunks(n, grain);
  // The sweeps read θ in precision T: float64 uses the caller's vector, float32 a rounded copy.
  VectorT<T> theta_copy, teacher_copy;
  const T* theta_t = in_precision<T>(theta, theta_copy);
  const T* teacher_t = input.teacher ? in_precision<T>(*input.teacher, teacher_copy) : nullptr;
  pool.prepare();
  // The chunks run in waves of at most chunks_in_flight: one gradient buffer per chunk of a wave,
  // so a step's memory does not grow with the batch (a batch of 10⁷ rows held 10⁷/64 gradients).
  const Index wave = !want_grad       ? chunks
                     : input.wave > 0 ? std::min(input.wave, chunks)
                                      : chunks_in_flight(chunks, P, sizeof(T));
  if (want_grad) pool.chunk_buffers(wave, P);
  std::vector<double> losses(static_cast<std::size_t>(chunks), 0.0);
  BatchSums sums;
  if (want_grad) {  // the first wave zeroes it; a rank with no rows has no wave
    if (chunks == 0)
      sums.grad.setZero(P);
    else
      sums.grad.resize(P);
  }
  for (Index first = 0; first < chunks; first += wave) {
    const Index count = std::min(wave, chunks - first), offset = first * grain;
    parallel::for_each_chunk(
        std::min(n - offset, count * grain), grain, [&](Index local, Index begin, Index end) {
          const Index chunk = first + local;
          begin += offset;
          end += offset;
          const MatrixT<T> x = input.x->middleRows(begin, end - begin).template cast<T>();
          MatrixT<T> target;
          if (input.target_score)
            target = input.target_score->middleRows(begin, end - begin).template cast<T>();
          ObjectiveBatch<T> batch;
          batch.spec = &spec;
          batch.theta = theta_t;
          batch.x = &x;
          batch.streams = input.streams->data() + begin;
          batch.seed = input.seed;
          batch.step = input.step;
          batch.train = input.train;
          batch.teacher = teacher_t;
          batch.target_score = input.target_score ? &target : nullptr;
          if (want_grad) {
            VectorT<T>& grad = pool.chunk_grad(local);
            grad.setZero();
            batch.grad = grad.data();
          }
          batch.jet = &pool.local();
          losses[static_cast<std::size_t>(chunk)] = objective.evaluate(batch);
        });
    if (want_grad) add_chunk_gradients(pool, count, first == 0, sums.grad);
  }
  for (const double l : losses) sums.loss += l;  // chunk order: independent of the threads
  return sums;
}

template class JetPool<float>;
template class JetPool<double>;
template BatchSums batch_sums<float>(const Objective&, const MlpSpec&, const Vector&,
                                     const BatchInput&, bool, JetPool<float>&);
template BatchSums batch_sums<double>(const Objective&, const MlpSpec&, const Vector&,
                                      const BatchInput&, bool, JetPool<double>&);

}  // namespace scorematch
