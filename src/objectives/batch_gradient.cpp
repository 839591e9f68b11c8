#include "scorematch/objectives/batch_gradient.hpp"

#include <algorithm>

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

namespace {
struct Partial {
  double loss = 0.0;
  Vector grad;
};
}  // namespace

template <class T>
BatchSums batch_sums(const Objective& objective, const MlpSpec& spec, const Vector& theta,
                     const BatchInput& input, bool want_grad, JetPool<T>& pool) {
  const Index n = input.x->rows(), P = spec.num_parameters();
  const VectorT<T> theta_t = theta.cast<T>();
  pool.prepare();
  const Partial total = parallel::deterministic_reduce(
      n, batch_grain(objective, spec), Partial{0.0, want_grad ? Vector::Zero(P) : Vector()},
      [&](Index begin, Index end) {
        const MatrixT<T> x = input.x->middleRows(begin, end - begin).template cast<T>();
        MatrixT<T> target;
        if (input.target_score)
          target = input.target_score->middleRows(begin, end - begin).template cast<T>();
        VectorT<T> grad;
        if (want_grad) grad.setZero(P);
        ObjectiveBatch<T> batch;
        batch.spec = &spec;
        batch.theta = theta_t.data();
        batch.x = &x;
        batch.streams = input.streams->data() + begin;
        batch.seed = input.seed;
        batch.step = input.step;
        batch.target_score = input.target_score ? &target : nullptr;
        batch.grad = want_grad ? grad.data() : nullptr;
        batch.jet = &pool.local();
        Partial partial;
        partial.loss = objective.evaluate(batch);
        if (want_grad) partial.grad = grad.template cast<double>();
        return partial;
      },
      [](Partial& acc, const Partial& part) {
        acc.loss += part.loss;
        if (acc.grad.size() > 0) acc.grad += part.grad;
      });
  return {total.loss, total.grad};
}

template class JetPool<float>;
template class JetPool<double>;
template BatchSums batch_sums<float>(const Objective&, const MlpSpec&, const Vector&,
                                     const BatchInput&, bool, JetPool<float>&);
template BatchSums batch_sums<double>(const Objective&, const MlpSpec&, const Vector&,
                                      const BatchInput&, bool, JetPool<double>&);

}  // namespace scorematch
