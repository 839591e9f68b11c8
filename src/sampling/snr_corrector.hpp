// The Langevin corrector of predictor–corrector samplers (Song et al. 2021, Alg. 4 and 5;
// score_sde's LangevinCorrector): one Langevin step on the current noised law whose size is set
// by a signal-to-noise ratio r,
//   ε = 2 a (r ‖ξ‖ / ‖g‖)²,   z ← z + ε g + √(2ε) ξ,
// with a = 1 (VE) or the discrete VP α_i = 1 − β(t_i)Δt. As in the reference code the norms are
// taken over a batch — here the fixed global block of 64 chains, so paths do not depend on ranks
// or threads (per-chain norms fail: near a mode ‖g‖ → 0 and the step explodes). When g = 0
// everywhere ε is not finite and the chains stay put.
#pragma once
#include <cmath>

#include "scorematch/core/types.hpp"

namespace scorematch::samplers {

template <class Noise>
void snr_langevin_step(Matrix& z, const Matrix& g, const Noise& xi, double snr, double a = 1.0) {
  const double ratio = snr * std::sqrt(xi.squaredNorm() / g.squaredNorm());
  const double eps = 2.0 * a * ratio * ratio;
  if (!std::isfinite(eps)) return;
  z += eps * g + std::sqrt(2.0 * eps) * xi;
}

}  // namespace scorematch::samplers
