// One data-parallel training step, independent of MPI: the caller supplies `reduce`, an in-place
// sum of a flat buffer over all ranks (MPI_Allreduce in the CLI, identity in tests).
//   1. The global minibatch (B slots) is a function of (seed, step) (objectives/minibatch.hpp);
//      this rank evaluates the slots whose rows it owns, threads splitting them into chunks.
//   2. [Σ ∂loss/∂θ, Σ loss, extras…] is reduced in one call (one fused MPI_Allreduce).
//   3. Every rank applies the same optimiser update to the mean gradient, so θ stays identical.
// A non-finite loss or gradient is reported before the update, so θ is never poisoned.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "scorematch/objectives/batch_gradient.hpp"
#include "scorematch/objectives/minibatch.hpp"
#include "scorematch/optim/optimizer.hpp"

namespace scorematch {

using Reduce = std::function<void(std::vector<double>&)>;

struct TrainSettings {
  Index batch = 256;
  std::uint64_t seed = 0;
  bool float32 = false;
};

// Rows handed to the objective, in the model's (standardised) units; `target` holds the ESM target
// scores s*(x) in model units for the same rows (empty for the other objectives).
struct LocalRows {
  Matrix x, target;
};

// This rank's rows: global indices `range`. `fetch` returns the listed rows (local indices, 0-based
// within the range, ascending). They may live in memory (in_memory_rows) or be read from the data
// file on each call (streaming, so that memory does not grow with the data set).
struct LocalData {
  RowRange range;
  std::function<LocalRows(const std::vector<Index>& local)> fetch;
};
LocalData in_memory_rows(const Matrix* rows, RowRange range, const Matrix* target_score = nullptr);

// Validation rows are evaluated in chunks of this many, bounding the jets' memory.
inline constexpr Index kValidationChunk = 4096;

struct StepResult {
  double loss = 0.0;  // mean over the global minibatch
  bool finite = true;
  UpdateInfo update;
  Index local_samples = 0;
  double compute_seconds = 0.0, reduce_seconds = 0.0;
  std::vector<double> extras;  // reduced extras
};

class Trainer {
 public:
  Trainer(MlpSpec spec, const Objective& objective, TrainSettings settings, DataSplit split);

  // Step `step` (1-based) on θ; updates θ and the optimiser state unless the result is not finite.
  StepResult step(std::uint32_t step, Vector& theta, const Optimizer& optimizer,
                  OptimizerState& state, const LocalData& data, const Reduce& reduce,
                  std::vector<double> extras = {});

  // Mean loss over all validation rows of all ranks (noise keyed by row, fixed step), or NaN
  // when there are none.
  double validation_loss(const Vector& theta, const LocalData& data, const Reduce& reduce);

  const MlpSpec& spec() const { return spec_; }

  // The teacher of objectives that have one (dsm consistency), held fixed for the whole run
  // instead of the EMA of the weights (fit --consistency-teacher init); the caller keeps it alive.
  void hold_teacher(const Vector* teacher) { held_teacher_ = teacher; }

 private:
  // Loss (and gradient) sums over the listed local rows, noise keyed by (stream, step).
  BatchSums sums(const Vector& theta, const Vector* teacher, const LocalData& data,
                 const std::vector<Index>& local, const std::vector<std::uint64_t>& streams,
                 std::uint32_t step, bool want_grad);

  MlpSpec spec_;
  const Objective& objective_;
  TrainSettings settings_;
  DataSplit split_;
  JetPool<double> pool64_;
  JetPool<float> pool32_;
  const Vector* held_teacher_ = nullptr;
};

// Random-stream purposes for one run's seed (core/random_stream.hpp derive_seed tags).
inline constexpr std::uint64_t kNoiseTag = 2, kInitTag = 4;
// Step word of the validation noise (never a training step).
inline constexpr std::uint32_t kValidationStep = 0xffffffffu;

}  // namespace scorematch
