// The 1-D view of a score field: a model's potential and its gradient along one coordinate axis,
// next to the data's. Score matching fits gradients, so the two potentials should agree up to an
// additive constant (the log normaliser); both are shown shifted to a minimum of 0.
//   model potential  U_m(t) = φ(x(t)) − min φ along the line x(t) = through + t e_axis; for d = 1
//                    this is the model's −log density, for d > 1 the slice through `through`
//                    (the conditional, not the marginal, potential);
//   model gradient   dU_m/dt = ∂φ/∂x_axis = −s_axis(x(t)) (from the score; also for score-only
//                    models, which have no potential);
//   data potential   U_d(t) = −log p̂(t) − min, p̂ the Gaussian kernel density estimate of the data's
//                    column `axis` with Silverman's bandwidth h = 0.9 min(sd, IQR/1.34) n^(−1/5);
//   data gradient    dU_d/dt = Σ_i K_i (t − x_i)/h² / Σ_i K_i,  K_i = exp(−(t − x_i)²/(2h²)).
// For a N(μ, σ²) sample the KDE is N(μ, σ² + h²) in expectation, so dU_d/dt ≈ (t − μ)/(σ² + h²).
#pragma once
#include "scorematch/models/score_model.hpp"

namespace scorematch {

struct ProfileSpec {
  Index axis = 0;
  double t_min = -5, t_max = 5;
  Index n = 400;
  Vector through;  // length d; empty = zeros
};

struct Profile {
  Matrix points;                              // n × d
  Vector t, model_potential, model_gradient;  // model_potential empty without an energy
  Vector data_potential, data_gradient;       // empty without data
  double bandwidth = 0;
};

// `data` may be empty (no data curves); otherwise its column spec.axis is used.
Profile evaluate_profile(const ScoreModel& model, const ProfileSpec& spec, const Matrix& data);

// Silverman's rule-of-thumb bandwidth of a sample (> 0; throws on fewer than 2 distinct values).
double silverman_bandwidth(const Vector& x);

}  // namespace scorematch
