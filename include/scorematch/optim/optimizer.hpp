// First-order optimisers on one flat parameter vector, with gradient-norm clipping, a warm-up +
// cosine learning-rate schedule and an exponential moving average (EMA) of the weights.
//   sgd    b ← μb + g,  θ ← θ − η b                          (momentum μ; L2 decay: g += λθ)
//   adam   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  θ ← θ − η m̂/(√v̂ + ε),
//          m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)                      (Kingma & Ba 2015; L2 decay)
//   adamw  adam with decoupled weight decay θ ← θ − ηλθ      (Loshchilov & Hutter 2019)
// Schedule for update t = 1, 2, …: η_t = η t/W during warm-up (t ≤ W), then
//   η_t = η_min + (η − η_min)·½(1 + cos(π (t − W)/(T − W))).
// EMA: θ̄ ← δ_t θ̄ + (1 − δ_t)θ with δ_t = min(δ, (1 + t)/(10 + t)), so early averages are not
// dominated by the initial weights.
// All state is plain doubles, so a checkpoint restores an optimiser bitwise.
#pragma once
#include <string>
#include <vector>

#include "scorematch/core/types.hpp"

namespace scorematch {

// The optimizers OptimizerSettings::name may choose.
inline std::vector<std::string> optimizer_names() {
  return {"adam", "adamw", "sgd"};
}

struct OptimizerSettings {
  std::string name = "adam";  // sgd | adam | adamw
  double lr = 1e-3, lr_min = 0.0;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double momentum = 0.9, weight_decay = 0.0;
  double clip_norm = 0.0;  // 0: no clipping
  Index warmup = 0, total_steps = 1;
  std::string schedule = "cosine";  // cosine | constant
  double ema_decay = 0.999;         // 0: no EMA (the raw weights are saved)
  void validate() const;            // throws Error on bad settings
  // Whether this optimizer reads a setting beyond the common ones (momentum: sgd only).
  bool uses(const std::string& setting) const { return setting != "momentum" || name == "sgd"; }
};

struct OptimizerState {
  Index step = 0;  // updates applied so far
  Vector m, v;     // adam moments, or m = sgd momentum buffer
  Vector ema;
};

struct UpdateInfo {
  double grad_norm = 0.0;  // before clipping
  double lr = 0.0;
};

class Optimizer {
 public:
  explicit Optimizer(OptimizerSettings settings);
  OptimizerState init(const Vector& theta) const;
  double learning_rate(Index update) const;  // η_t for update t ≥ 1
  // Applies update state.step + 1 with the (mean) gradient g.
  UpdateInfo apply(Vector& theta, Vector g, OptimizerState& state) const;
  const OptimizerSettings& settings() const { return s_; }

 private:
  OptimizerSettings s_;
};

}  // namespace scorematch
