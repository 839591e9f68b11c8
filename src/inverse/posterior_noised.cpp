#include "scorematch/inverse/posterior_noised.hpp"

#include <cmath>
#include <utility>

#include "scorematch/core/error.hpp"

namespace scorematch::inverse {

PosteriorNoisedScore::PosteriorNoisedScore(const NoisedScore& prior, const LinearOperator& a,
                                           Matrix y, Index first_obs, double sigma_y,
                                           Index chains_per_obs)
    : prior_(prior), obs_(a, std::move(y), first_obs, sigma_y, chains_per_obs) {
  if (prior.scheme() != NoiseScheme::sigma)
    throw Error("annealed posterior sampling needs a sigma-conditioned prior (fit " +
                setting("noise") + " ladder)");
  if (a.in_dim() != prior.dim())
    throw Error("posterior: operator, prior and observations disagree in dimension");
  rms_scale_ = std::sqrt(prior.scale().squaredNorm() / static_cast<double>(prior.dim()));
}

Matrix PosteriorNoisedScore::score_at(const Matrix& z, double level, Index first_chain) const {
  const Vector shift = prior_.shift(), scale = prior_.scale();
  const Matrix x =
      (z.array().rowwise() * scale.transpose().array()).matrix().rowwise() + shift.transpose();
  const Matrix adj = obs_.adjoint(obs_.residual(x, first_chain), first_chain);
  const double sigma_x = level * rms_scale_;
  const double w = 1.0 / (obs_.sigma_y() * obs_.sigma_y() + sigma_x * sigma_x);
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
