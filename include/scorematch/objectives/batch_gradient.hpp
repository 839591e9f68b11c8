// A minibatch's loss sum and θ-gradient sum for one rank's rows, threads splitting the rows into
// fixed chunks (so the result is bitwise identical for any thread count). The hot path runs in
// precision T (float or double); sums are returned in double for the MPI reduction.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "scorematch/objectives/objective.hpp"

namespace scorematch {

struct BatchSums {
  double loss = 0.0;
  Vector grad;  // empty when the gradient was not requested
};

struct BatchInput {
  const Matrix* x = nullptr;                            // rows in the model's units
  const std::vector<std::uint64_t>* streams = nullptr;  // one per row
  std::uint64_t seed = 0;
  std::uint32_t step = 0;
  const Matrix* target_score = nullptr;  // ESM
  bool train = false;                    // a training step (ObjectiveBatch::train)
  // Parameters of the teacher network (ObjectiveBatch::teacher); null: θ itself.
  const Vector* teacher = nullptr;
  // Chunks whose gradients are held at once; 0: chunks_in_flight. Any value gives bitwise the same
  // sums (tests vary it).
  Index wave = 0;
};

// Rows per chunk: the largest power of two in [4, 64] with at most 2048 stacked jet rows. A
// function of the objective and model only, never of the thread count.
Index batch_grain(const Objective& objective, const MlpSpec& spec);

// Chunks whose gradients are held at once (a wave) when a batch has `chunks` chunks of P
// parameters of value_bytes each: about 256 MiB of gradients (at least 4 chunks per thread), so
// a step's memory does not grow with the batch.
Index chunks_in_flight(Index chunks, Index P, Index value_bytes);

// Per-thread jet scratch space and per-chunk gradient buffers, reused across steps: a training
// step then allocates and page-faults nothing (fresh per-chunk gradient vectors were a visible
// share of a small-d step; bench/bench_training.cpp measures it).
template <class T>
class JetPool {
 public:
  explicit JetPool(const MlpSpec& spec) : spec_(spec) {}
  MlpJet<T>& local();  // the calling thread's jet; prepare() must have sized the pool
  void prepare();
  double gemm_flops() const;  // summed over the pool's jets
  // Gradient buffer of chunk c (length P) once chunk_buffers(chunks, P) has sized them.
  void chunk_buffers(Index chunks, Index P);
  VectorT<T>& chunk_grad(Index c) { return grads_[static_cast<std::size_t>(c)]; }

 private:
  MlpSpec spec_;
  std::vector<std::unique_ptr<MlpJet<T>>> jets_;
  std::vector<VectorT<T>> grads_;
};

template <class T>
BatchSums batch_sums(const Objective& objective, const MlpSpec& spec, const Vector& theta,
                     const BatchInput& input, bool want_grad, JetPool<T>& pool);

extern template class JetPool<float>;
extern template class JetPool<double>;

}  // namespace scorematch
