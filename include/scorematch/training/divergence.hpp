// Divergence of a training run, judged after every step from values all ranks agree on (the
// reduced minibatch loss and the parameters, identical on every rank):
//   - a non-finite loss or parameter;
//   - an exploding loss: |L_t| > kLossGrowth · max(|L_1|, 1), L_1 the loss of the run's first
//     step (of this process: after a resume, the first step taken);
//   - exploding parameters: ‖θ_t‖ > kThetaGrowth · max(‖θ_0‖, 1).
// A healthy fit moves ‖θ‖ by a small factor and lowers the loss; an optimiser with a far too
// large step (Adam at lr = 1e6 moves every weight by ~1e6 per step) trips the parameter test at
// once. The thresholds are loose on purpose: a false alarm costs a run, a late alarm only steps.
#pragma once
#include <string>

#include "scorematch/core/types.hpp"

namespace scorematch {

class DivergenceMonitor {
 public:
  static constexpr double kLossGrowth = 1e8, kThetaGrowth = 1e4;
  explicit DivergenceMonitor(const Vector& theta0);
  // Empty while healthy; otherwise why the run diverged (for a message naming the step).
  std::string check(double loss, const Vector& theta);

 private:
  double theta0_norm_;
  double first_loss_ = 0;
  bool have_first_ = false;
};

}  // namespace scorematch
