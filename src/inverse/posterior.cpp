#include "scorematch/inverse/posterior.hpp"

#include <Eigen/Cholesky>
#include <cmath>

#include "scorematch/core/error.hpp"

namespace scorematch::inverse {

Matrix posterior_score(const ScoreModel& prior, const LinearOperator& a, const Matrix& x,
                       const Matrix& y, double sigma_y, Index first_row) {
  return prior.score(x) + a.adjoint(y - a.apply(x, first_row), first_row) / (sigma_y * sigma_y);
}

Matrix map_adam(const ScoreModel& prior, const LinearOperator& a, const Matrix& y, double sigma_y,
                Matrix x0, Index first_row, const MapSettings& s) {
  return map_adam([&](const Matrix& x) { return prior.score(x); }, a, y, sigma_y, std::move(x0),
                  first_row, s);
}

Matrix map_adam(const PriorScore& prior_score, const LinearOperator& a, const Matrix& y,
                double sigma_y, Matrix x0, Index first_row, const MapSettings& s) {
  const double pi = std::acos(-1.0);
  const double w = 1.0 / (sigma_y * sigma_y);
  Matrix x = std::move(x0);
  Matrix m = Matrix::Zero(x.rows(), x.cols()), v = Matrix::Zero(x.rows(), x.cols());
  for (Index t = 1; t <= s.steps; ++t) {
    // Ascent direction: the posterior score (as posterior_score()).
    const Matrix g = prior_score(x) + a.adjoint(y - a.apply(x, first_row), first_row) * w;
    m = s.beta1 * m + (1 - s.beta1) * g;
    v = s.beta2 * v + (1 - s.beta2) * g.cwiseAbs2();
    const double lr =
        s.lr * 0.5 * (1 + std::cos(pi * static_cast<double>(t - 1) / static_cast<double>(s.steps)));
    const double c1 = 1 - std::pow(s.beta1, static_cast<double>(t)),
                 c2 = 1 - std::pow(s.beta2, static_cast<double>(t));
    x.array() += lr * (m.array() / c1) / ((v.array() / c2).sqrt() + s.eps);
    if (!x.allFinite())
      throw Error("MAP diverged (non-finite iterate at step " + std::to_string(t) +
                  "); try a smaller " + setting("lr"));
  }
  return x;
}

Matrix gaussian_posterior_mean(const Vector& mean, const Matrix& precision, const LinearOperator& a,
                               const Matrix& y, double sigma_y, Index first_row) {
  const double w = 1.0 / (sigma_y * sigma_y);
  const Vector prior_term = precision * mean;
  const Matrix aty = a.adjoint(y, first_row);
  Matrix out(y.rows(), mean.size());
  for (Index i = 0; i < y.rows(); ++i) {
    const Matrix post = precision + w * a.gram(first_row + i);
    out.row(i) =
        Eigen::LLT<Matrix>(post).solve(prior_term + w * aty.row(i).transpose()).transpose();
  }
  return out;
}

}  // namespace scorematch::inverse
