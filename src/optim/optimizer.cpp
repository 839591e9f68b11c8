#include "scorematch/optim/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "scorematch/core/error.hpp"

namespace scorematch {

void OptimizerSettings::validate() const {
  if (name != "sgd" && name != "adam" && name != "adamw")
    throw SettingError(setting("optimizer") + ": unknown optimizer '" + name +
                       "' (expected adam, adamw or sgd)");
  // Finite too: an infinite rate or decay would only show up as a diverged first step.
  if (!(lr > 0 && std::isfinite(lr)))
    throw SettingError("learning rate must be positive and finite (" + setting("lr") + ")");
  if (!(lr_min >= 0 && lr_min <= lr)) throw InvalidSetting("lr_min", "lie in [0, lr]");
  if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1))
    throw SettingError("adam betas must lie in [0, 1)");
  if (!(momentum >= 0 && momentum < 1)) throw InvalidSetting("momentum", "lie in [0, 1)");
  if (!(weight_decay >= 0 && std::isfinite(weight_decay)))
    throw InvalidSetting("weight_decay", "be finite and >= 0");
  if (!(clip_norm >= 0 && std::isfinite(clip_norm)))
    throw InvalidSetting("clip_norm", "be finite and >= 0");
  if (!(ema_decay >= 0 && ema_decay < 1)) throw InvalidSetting("ema_decay", "lie in [0, 1)");
  if (warmup < 0 || total_steps < 1)
    throw SettingError(setting("warmup") + " must be >= 0 and " + setting("total_steps") + " >= 1");
  if (schedule != "cosine" && schedule != "constant")
    throw SettingError(setting("schedule") + ": unknown schedule '" + schedule +
                       "' (expected cosine or constant)");
}

Optimizer::Optimizer(OptimizerSettings settings) : s_(std::move(settings)) {
  s_.validate();
}

OptimizerState Optimizer::init(const Vector& theta) const {
  OptimizerState state;
  state.m = Vector::Zero(theta.size());
  if (s_.name != "sgd") state.v = Vector::Zero(theta.size());
  state.ema = theta;
  return state;
}

double Optimizer::learning_rate(Index t) const {
  if (t <= s_.warmup) return s_.lr * static_cast<double>(t) / static_cast<double>(s_.warmup);
  if (s_.schedule == "constant" || s_.total_steps <= s_.warmup) return s_.lr;
  const double progress = std::min(
      1.0, static_cast<double>(t - s_.warmup) / static_cast<double>(s_.total_steps - s_.warmup));
  return s_.lr_min + (s_.lr - s_.lr_min) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

UpdateInfo Optimizer::apply(Vector& theta, Vector g, OptimizerState& state) const {
  UpdateInfo info;
  info.grad_norm = g.norm();
  if (s_.clip_norm > 0 && info.grad_norm > s_.clip_norm) g *= s_.clip_norm / info.grad_norm;
  const Index t = ++state.step;
  const double lr = info.lr = learning_rate(t);
  if (s_.name == "sgd") {
    if (s_.weight_decay > 0) g += s_.weight_decay * theta;
    state.m = s_.momentum * state.m + g;
    theta -= lr * state.m;
  } else {
    if (s_.name == "adam" && s_.weight_decay > 0) g += s_.weight_decay * theta;
    if (s_.name == "adamw" && s_.weight_decay > 0) theta *= 1.0 - lr * s_.weight_decay;
    state.m = s_.beta1 * state.m + (1 - s_.beta1) * g;
    state.v = s_.beta2 * state.v + (1 - s_.beta2) * g.cwiseAbs2();
    const double c1 = 1 - std::pow(s_.beta1, static_cast<double>(t));
    const double c2 = 1 - std::pow(s_.beta2, static_cast<double>(t));
    theta.array() -= lr * (state.m.array() / c1) / ((state.v.array() / c2).sqrt() + s_.eps);
  }
  if (s_.ema_decay > 0) {
    const double decay =
        std::min(s_.ema_decay, (1.0 + static_cast<double>(t)) / (10.0 + static_cast<double>(t)));
    state.ema = decay * state.ema + (1 - decay) * theta;
  } else {
    state.ema = theta;
  }
  return info;
}

}  // namespace scorematch
