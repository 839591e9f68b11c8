// Log-likelihood of data under the probability-flow ODE of the VP-SDE (Song et al. 2021, App. D.2;
// the instantaneous change of variables of Chen et al. 2018):
//   dz/dt = f(z, t) = −½β(t)(z + s(z, t)),   log p₀(z(0)) = log N(z(1); 0, I) + ∫₀¹ ∇·f(z(t), t)
//   dt, ∇·f = −½β(t) (d + ∇·s(z, t)),
// integrated from t_eps to 1 by Heun's method on the augmented state (z, ∫∇·f). The divergence is
// exact (probes = 0: one jet sweep with d tangents) or Hutchinson's estimate with K fixed
// Rademacher probes per row (E[vᵀJv] = tr J; FFJORD, Grathwohl et al. 2019): each probe gives an
// unbiased log-likelihood, and their spread gives the per-row standard error.
// Rows are in data units: log p_x(x) = log p_z(z) − Σ log scale, z = (x − shift) ⊘ scale.
#pragma once
#include <cstdint>

#include "scorematch/sampling/noised_score.hpp"

namespace scorematch {

struct FlowLikelihoodSettings {
  Index steps = 500;
  double t_eps = 1e-5;
  Index probes = 0;  // 0: exact divergence
  std::uint64_t seed = 0;
};

struct FlowLikelihood {
  Vector log_density;  // per row
  // Per row: spread over probes / √K; 0 when exact (probes = 0); NaN for one probe (undefined).
  Vector standard_error;
};

// `first_row` is the global index of x's row 0 (probe streams are keyed by global row).
FlowLikelihood flow_log_likelihood(const NoisedScore& score, const Matrix& x, Index first_row,
                                   const FlowLikelihoodSettings& settings);

}  // namespace scorematch
