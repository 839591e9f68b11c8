// The uniform reverse-time grid of the VP-SDE samplers: t_i = 1 − i·Δt, Δt = (1 − t_eps)/N,
// i = 0 … N, from the prior at t = 1 down to t_eps (Song et al. 2021 stop at t_eps > 0 because the
// score of p_t blows up as t → 0 for data on a lower-dimensional set).
#pragma once
#include "scorematch/core/error.hpp"
#include "scorematch/core/types.hpp"

namespace scorematch {

struct ReverseTimeGrid {
  ReverseTimeGrid(Index steps, double t_eps)
      : n(steps), dt((1.0 - t_eps) / static_cast<double>(steps)) {
    if (!(t_eps > 0 && t_eps < 1)) throw InvalidSetting("t_eps", "lie in (0, 1)");
  }
  double t(Index i) const { return 1.0 - static_cast<double>(i) * dt; }
  Index n;
  double dt;
};

}  // namespace scorematch
