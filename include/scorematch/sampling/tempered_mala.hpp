// One MALA move on tempered densities of the geometric path between a normalised diagonal
// Gaussian reference q₀ = e^{−φ₀} and a model e^{−φ} (Neal 2001; Syed et al. 2022):
//   π_β ∝ q₀^{1−β} e^{−βφ},   U_β = (1 − β) φ₀ + β φ,   ∇ log π_β = (1 − β) s₀ + β s,
// preconditioned by the reference's covariance C = diag(sd²) (see sampling/mala.cpp for the
// proposal and acceptance formulas). Rows are independent chains, each with its own β and step α,
// so annealed importance sampling (one β for all rows) and parallel tempering (a stack of
// replicas at different β) share the kernel; the model is evaluated once, on all proposals.
#pragma once
#include "scorematch/core/random_stream.hpp"
#include "scorematch/models/score_model.hpp"

namespace scorematch {

// A normalised Gaussian with diagonal covariance diag(sd²): the reference q₀.
struct DiagonalGaussian {
  Vector mean, sd;
  // φ₀(x) = −log q₀(x) per row, and the score −∇φ₀ (rows × d).
  Vector energy(const Matrix& x) const;
  Matrix score(const Matrix& x) const;
  // One exact draw into row (length d) from rng's normals.
  void draw(RandomStream& rng, double* row) const;
};

// The model's energy and score at x; NaN energies become +inf (zero density).
void tempered_evaluate(const ScoreModel& model, const Matrix& x, Vector& phi, Matrix& s);

// Moves every row r of x (with cached model energy phi and score s) by one MALA step on π_{β_r}
// with step alpha_r, proposal normals xi.row(r) and acceptance log-uniform log_u[r]; returns the
// acceptance probabilities.
Vector tempered_mala_move(const ScoreModel& model, const DiagonalGaussian& reference, Matrix& x,
                          Vector& phi, Matrix& s, const Vector& beta, const Vector& alpha,
                          const Matrix& xi, const Vector& log_u);

}  // namespace scorematch
