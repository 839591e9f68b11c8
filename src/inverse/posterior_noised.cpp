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
    throw Error("noised posterior sampling needs a sigma-conditioned prior (fit " +
                setting("noise") + " ladder or vesde)");
  if (a.in_dim() != prior.dim())
    throw Error("posterior: operator, prior and observations disagree in dimension");
  rms_scale_ = std::sqrt(prior.scale().squaredNorm() / static_cast<double>(prior.dim()));
}

Matrix PosteriorNoisedScore::score_at(const Matrix& z, double level, Index first_chain) const {
  const double sigma_x = level * rms_scale_;
  return with_likelihood(z, level, first_chain,
                         1.0 / (obs_.sigma_y() * obs_.sigma_y() + sigma_x * sigma_x));
}

Matrix PosteriorNoisedScore::conditional_score(const Matrix& z, double level,
                                               Index first_chain) const {
  const double sigma_x = level * rms_scale_,
               gap = obs_.sigma_y() * obs_.sigma_y() - sigma_x * sigma_x;
  if (!(gap > 0)) throw Error("posterior: the conditional score needs a level below sigma_y");
  return with_likelihood(z, level, first_chain, 1.0 / gap);
}

Matrix PosteriorNoisedScore::with_likelihood(const Matrix& z, double level, Index first_chain,
                                             double w) const {
  const Vector shift = prior_.shift(), scale = prior_.scale();
  const Matrix x =
      (z.array().rowwise() * scale.transpose().array()).matrix().rowwise() + shift.transpose();
  const Matrix adj = obs_.adjoint(obs_.residual(x, first_chain), first_chain);
  return prior_.score(z, level) + w * (adj.array().rowwise() * scale.transpose().array()).matrix();
}

const Imputation* PosteriorNoisedScore::imputation() const {
  return obs_.op().selects_coordinates() ? this : nullptr;
}

// In data units x = shift + scale ⊙ z, at level σ coordinate i carries noise σ·scale_i:
//   x ← x + Aᵀ(y − A x) + AᵀA (sd ⊙ ξ),  sd_i = √max(0, (σ scale_i)² − σ_y²),
// which for A = diag(m) sets the observed x_i to y_i + sd_i ξ_i and leaves the others.
void PosteriorNoisedScore::impute(Matrix& z, double level, Index first_chain,
                                  const Matrix& xi) const {
  const Vector shift = prior_.shift(), scale = prior_.scale();
  const double sy2 = obs_.sigma_y() * obs_.sigma_y();
  const Eigen::RowVectorXd sd =
      ((level * level) * scale.array().square() - sy2).max(0.0).sqrt().matrix().transpose();
  Matrix x =
      (z.array().rowwise() * scale.transpose().array()).matrix().rowwise() + shift.transpose();
  const Matrix noise = (xi.array().rowwise() * sd.array()).matrix();
  x += obs_.adjoint(obs_.residual(x, first_chain), first_chain) +
       obs_.adjoint(obs_.apply(noise, first_chain), first_chain);
  z = ((x.rowwise() - shift.transpose()).array().rowwise() / scale.transpose().array()).matrix();
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
