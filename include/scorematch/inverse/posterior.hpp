// Posterior of a linear inverse problem y = A x + ε, ε ~ N(0, σ_y² I), under a score prior p(x):
//   log p(x | y) = log p(x) − ‖y − A x‖² / (2σ_y²) + const,
//   ∇ₓ log p(x | y) = s(x) + Aᵀ(y − A x) / σ_y²            (e.g. Song et al. 2022; Kadkhodaie &
// Simoncelli 2021). Rows are independent observations; `first_row` is the global index of row 0.
#pragma once
#include <functional>

#include "scorematch/inverse/linear_operator.hpp"
#include "scorematch/models/score_model.hpp"

namespace scorematch::inverse {

Matrix posterior_score(const ScoreModel& prior, const LinearOperator& a, const Matrix& x,
                       const Matrix& y, double sigma_y, Index first_row);

// MAP by Adam ascent on log p(x | y) (Kingma & Ba 2015), element-wise moments, the step size
// decaying as lr·½(1 + cos(π t / steps)) so that the iterate settles instead of hovering at ~lr.
struct MapSettings {
  Index steps = 1000;
  double lr = 0.05, beta1 = 0.9, beta2 = 0.999, eps = 1e-12;
};
Matrix map_adam(const ScoreModel& prior, const LinearOperator& a, const Matrix& y, double sigma_y,
                Matrix x0, Index first_row, const MapSettings& settings);
// The same with the prior's score as a function of x (n × d → n × d).
using PriorScore = std::function<Matrix(const Matrix& x)>;
Matrix map_adam(const PriorScore& prior_score, const LinearOperator& a, const Matrix& y,
                double sigma_y, Matrix x0, Index first_row, const MapSettings& settings);

// Gaussian prior N(μ, P⁻¹): the posterior is Gaussian with precision P + AᵀA/σ_y² and mean
//   (P + AᵀA/σ_y²)⁻¹ (P μ + Aᵀ y / σ_y²)   (= its MAP), one solve per row (AᵀA may depend on it).
Matrix gaussian_posterior_mean(const Vector& mean, const Matrix& precision, const LinearOperator& a,
                               const Matrix& y, double sigma_y, Index first_row);

}  // namespace scorematch::inverse
