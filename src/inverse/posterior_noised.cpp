#include "scorematch/inverse/posterior_noised.hpp"

#include <cmath>
#include <utility>

#include "scorematch/core/error.hpp"

namespace scorematch::inverse {

PosteriorNoisedScore::PosteriorNoisedScore(const NoisedScore& prior, const LinearOperator& a,
                                           Matrix y, Index first_obs, double sigma_y,
                                           Index chains_per_obs)
    : prior_(prior),
      a_(a),
      y_(std::move(y)),
      first_obs_(first_obs),
      sigma_y_(sigma_y),
      per_obs_(chains_per_obs) {
  if (prior.scheme() != NoiseScheme::sigma)
    throw Error("annealed posterior sampling needs a sigma-conditioned prior (fit --noise ladder)");
  if (!(sigma_y > 0)) throw Error("the observation noise sigma_y must be > 0");
  if (chains_per_obs < 1) throw Error("chains per observation must be >= 1");
  if (a.in_dim() != prior.dim() || a.out_dim() != y_.cols())
    throw Error("posterior: operator, prior and observations disagree in dimension");
  rms_scale_ = std::sqrt(prior.scale().squaredNorm() / static_cast<double>(prior.dim()));
}

Matrix PosteriorNoisedScore::score_at(const Matrix& z, double level, Index first_chain) const {
  const Vector shift = prior_.shift(), scale = prior_.scale();
  const Matrix x =
      (z.array().rowwise() * scale.transpose().array()).matrix().rowwise() + shift.transpose();
  // Residuals y_o − A x row by row (a row's operator may depend on its observation, e.g. a mask).
  Matrix r(z.rows(), y_.cols()), adj(z.rows(), dim());
  for (Index i = 0; i < z.rows(); ++i) {
    const Index o = (first_chain + i) / per_obs_;
    if (o - first_obs_ < 0 || o - first_obs_ >= y_.rows())
      throw Error("posterior: chain without an observation");
    r.row(i) = y_.row(o - first_obs_) - a_.apply(x.row(i), o).row(0);
    adj.row(i) = a_.adjoint(r.row(i), o).row(0);
  }
  const double sigma_x = level * rms_scale_;
  const double w = 1.0 / (sigma_y_ * sigma_y_ + sigma_x * sigma_x);
  return prior_.score(z, level) + w * (adj.array().rowwise() * scale.transpose().array()).matrix();
}

Matrix PosteriorNoisedScore::score(const Matrix&, double) const {
  throw Error("a posterior score needs the chain index (score_at)");
}
Vector PosteriorNoisedScore::divergence(const Matrix&, double) const {
  throw Error("the divergence of a posterior score is not implemented");
}
Matrix PosteriorNoisedScore::probe_quadratic(const Matrix&, double, const Matrix&, Index) const {
  throw Error("the divergence of a posterior score is not implemented");
}

}  // namespace scorematch::inverse
