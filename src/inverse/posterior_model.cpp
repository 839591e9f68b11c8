#include "scorematch/inverse/posterior_model.hpp"

#include <utility>

#include "scorematch/core/error.hpp"

namespace scorematch::inverse {

ChainObservations::ChainObservations(const LinearOperator& a, Matrix y, Index first_obs,
                                     double sigma_y, Index chains_per_obs)
    : a_(a), y_(std::move(y)), first_obs_(first_obs), sigma_y_(sigma_y), per_obs_(chains_per_obs) {
  if (!(sigma_y > 0)) throw Error("the observation noise sigma_y must be > 0");
  if (chains_per_obs < 1) throw Error("chains per observation must be >= 1");
  if (a.out_dim() != y_.cols())
    throw Error("posterior: the operator and the observations disagree in dimension");
}

// Rows with consecutive observations (K = 1) go through the operator in one batch; with K > 1
// consecutive rows share an observation, so they are applied one by one.
Matrix ChainObservations::residual(const Matrix& x, Index first_chain) const {
  Matrix r(x.rows(), y_.cols());
  for (Index i = 0; i < x.rows(); ++i) {
    const Index o = (first_chain + i) / per_obs_ - first_obs_;
    if (o < 0 || o >= y_.rows()) throw Error("posterior: chain without an observation");
    r.row(i) = y_.row(o);
  }
  return r - apply(x, first_chain);
}

Matrix ChainObservations::apply(const Matrix& x, Index first_chain) const {
  if (per_obs_ == 1) return a_.apply(x, first_chain);
  Matrix out(x.rows(), a_.out_dim());
  for (Index i = 0; i < x.rows(); ++i)
    out.row(i) = a_.apply(x.row(i), (first_chain + i) / per_obs_).row(0);
  return out;
}

Matrix ChainObservations::adjoint(const Matrix& r, Index first_chain) const {
  if (per_obs_ == 1) return a_.adjoint(r, first_chain);
  Matrix out(r.rows(), a_.in_dim());
  for (Index i = 0; i < r.rows(); ++i)
    out.row(i) = a_.adjoint(r.row(i), (first_chain + i) / per_obs_).row(0);
  return out;
}

PosteriorModel::PosteriorModel(const ScoreModel& prior, const LinearOperator& a, Matrix y,
                               Index first_obs, double sigma_y, Index chains_per_obs)
    : prior_(prior), obs_(a, std::move(y), first_obs, sigma_y, chains_per_obs) {
  if (a.in_dim() != prior.dim())
    throw Error("posterior: operator, prior and observations disagree in dimension");
}

Matrix PosteriorModel::score_at(const Matrix& x, Index first_row) const {
  const double w = 1.0 / (obs_.sigma_y() * obs_.sigma_y());
  return prior_.score(x) + w * obs_.adjoint(obs_.residual(x, first_row), first_row);
}

void PosteriorModel::energy_and_score_at(const Matrix& x, Index first_row, Vector& e,
                                         Matrix& s) const {
  prior_.energy_and_score(x, e, s);
  const Matrix r = obs_.residual(x, first_row);
  const double w = 1.0 / (obs_.sigma_y() * obs_.sigma_y());
  e += 0.5 * w * r.rowwise().squaredNorm();
  s += w * obs_.adjoint(r, first_row);
}

}  // namespace scorematch::inverse
