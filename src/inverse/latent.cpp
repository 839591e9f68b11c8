#include "scorematch/inverse/latent.hpp"

#include <Eigen/Cholesky>
#include <cmath>
#include <limits>
#include <utility>

#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"

namespace scorematch::inverse {

namespace {

constexpr Index kRowChunk = 64;

// Per-row pieces of the latent posterior at z: residual r = x − f(z), energy, and the Gauss–Newton
// gradient g = J_fᵀ Σ⁻¹ r − λ z (the latent score) and matrix H = J_fᵀ Σ⁻¹ J_f + λ I.
struct Linearisation {
  Matrix fz, jac_t, r;
  Vector energy;
};

Linearisation linearise(const LatentModel& m, const Matrix& z, const Matrix& x) {
  Linearisation lin;
  m.decoder->decode_with_jacobian(z, lin.fz, lin.jac_t);
  lin.r = x - lin.fz;
  lin.energy = 0.5 * (lin.r.array().square().rowwise() * m.inv_var.transpose().array())
                         .rowwise()
                         .sum()
                         .matrix() +
               0.5 * m.prior_precision * z.rowwise().squaredNorm();
  return lin;
}

// Row b's weighted Jacobian (Σ^{-½}J_f)ᵀ (k × d), the Newton gradient g = J_fᵀΣ⁻¹r − λz and the
// two convergence measures of latent_map (see latent.hpp).
struct RowTerms {
  Matrix jw;
  Vector g;
  double stationarity = 0, orthogonality = 0;
};

RowTerms row_terms(const Linearisation& lin, const Vector& sqrt_w, double lambda, const Matrix& z,
                   Index b) {
  const Index k = z.cols();
  RowTerms t;
  t.jw = lin.jac_t.middleRows(b * k, k) * sqrt_w.asDiagonal();
  const Vector rw = lin.r.row(b).transpose().cwiseProduct(sqrt_w);  // Σ^{-½} r
  const Vector jr = t.jw * rw;                                      // J_fᵀ Σ⁻¹ r
  t.g = jr - lambda * z.row(b).transpose();
  const double jn = t.jw.norm() * rw.norm(), scale = jn + lambda * z.row(b).norm();
  t.stationarity = scale > 0 ? t.g.norm() / scale : 0.0;
  t.orthogonality = jn > 0 ? jr.norm() / jn : 0.0;
  return t;
}

void require_rows(const LatentModel& m, const Matrix& z, const Matrix& x) {
  if (x.cols() != m.decoder->data_dim())
    throw Error("the decoder writes " + std::to_string(m.decoder->data_dim()) +
                " columns but the data have " + std::to_string(x.cols()));
  if (z.rows() != x.rows() || z.cols() != m.decoder->latent_dim())
    throw Error("latent codes must be one row of length " +
                std::to_string(m.decoder->latent_dim()) + " per data row");
}

}  // namespace

void validate(const LatentModel& m) {
  if (!m.decoder) throw Error("latent model without a decoder");
  if (m.inv_var.size() != m.decoder->data_dim())
    throw Error("the noise variances have length " + std::to_string(m.inv_var.size()) +
                " but the decoder writes " + std::to_string(m.decoder->data_dim()) + " columns");
  if (!(m.inv_var.array() > 0).all() || !m.inv_var.allFinite())
    throw Error("the decoder noise standard deviations must be positive and finite");
  if (!(m.prior_precision >= 0) || !std::isfinite(m.prior_precision))
    throw Error("the latent prior precision must be >= 0");
}

void latent_energy_and_score(const LatentModel& m, const Matrix& z, const Matrix& x, Vector& energy,
                             Matrix& score) {
  require_rows(m, z, x);
  const Linearisation lin = linearise(m, z, x);
  const Index k = m.decoder->latent_dim();
  energy = lin.energy;
  score.resize(z.rows(), k);
  const Matrix wr = (lin.r.array().rowwise() * m.inv_var.transpose().array()).matrix();
  for (Index b = 0; b < z.rows(); ++b)
    score.row(b) = (lin.jac_t.middleRows(b * k, k) * wr.row(b).transpose()).transpose() -
                   m.prior_precision * z.row(b);
}

Vector latent_energy(const LatentModel& m, const Matrix& z, const Matrix& x) {
  require_rows(m, z, x);
  const Matrix r = x - m.decoder->decode(z);
  return 0.5 * (r.array().square().rowwise() * m.inv_var.transpose().array())
                   .rowwise()
                   .sum()
                   .matrix() +
         0.5 * m.prior_precision * z.rowwise().squaredNorm();
}

LatentMapResult latent_map(const LatentModel& m, const Matrix& x, Matrix z0,
                           const LatentMapSettings& settings) {
  validate(m);
  require_rows(m, z0, x);
  if (settings.max_iterations < 1) throw Error("latent MAP needs at least one iteration");
  const Index n = x.rows(), k = m.decoder->latent_dim();
  const double lambda = m.prior_precision;
  const Vector sqrt_w = m.inv_var.cwiseSqrt();
  LatentMapResult res;
  res.z = std::move(z0);
  res.stationarity = Vector::Constant(n, std::numeric_limits<double>::infinity());
  res.orthogonality = Vector::Zero(n);
  res.iterations.assign(static_cast<std::size_t>(n), 0);
  std::vector<char> done(static_cast<std::size_t>(n), 0);
  Vector mu = Vector::Constant(n, -1.0);  // damping; set from H's scale on the first iteration
  Matrix step = Matrix::Zero(n, k);

  for (Index it = 0; it < settings.max_iterations; ++it) {
    const Linearisation lin = linearise(m, res.z, x);
    res.energy = lin.energy;
    const Matrix curvature =
        settings.exact_hessian
            ? m.decoder->contracted_hessian(
                  res.z, (lin.r.array().rowwise() * m.inv_var.transpose().array()).matrix())
            : Matrix();
    // Newton / Gauss–Newton systems and the damped steps, row by row (k × k solves).
    parallel::for_each_chunk(n, kRowChunk, [&](Index, Index begin, Index end) {
      for (Index b = begin; b < end; ++b) {
        if (done[static_cast<std::size_t>(b)]) continue;
        const RowTerms t = row_terms(lin, sqrt_w, lambda, res.z, b);
        res.stationarity[b] = t.stationarity;
        res.orthogonality[b] = t.orthogonality;
        if (t.stationarity <= settings.tolerance) {
          done[static_cast<std::size_t>(b)] = 1;
          continue;
        }
        Matrix h = t.jw * t.jw.transpose();
        if (settings.exact_hessian) h -= curvature.middleRows(b * k, k);
        h.diagonal().array() += lambda;
        if (mu[b] < 0) mu[b] = 1e-3 * std::max(h.diagonal().cwiseAbs().maxCoeff(), 1e-300);
        // Raise μ until H + μI is positive definite, so Δ is a descent direction.
        for (;;) {
          Matrix damped = h;
          damped.diagonal().array() += mu[b];
          const Eigen::LLT<Matrix> llt(damped);
          if (llt.info() == Eigen::Success) {
            step.row(b) = llt.solve(t.g).transpose();
            break;
          }
          mu[b] = std::max(4.0 * mu[b], 1e-12 * (1 + h.cwiseAbs().maxCoeff()));
        }
      }
    });
    // Trial energies for the active rows; accept the rows whose energy did not increase.
    Matrix trial = res.z;
    for (Index b = 0; b < n; ++b)
      if (!done[static_cast<std::size_t>(b)]) trial.row(b) += step.row(b);
    const Vector trial_energy = latent_energy(m, trial, x);
    bool active = false;
    for (Index b = 0; b < n; ++b) {
      if (done[static_cast<std::size_t>(b)]) continue;
      res.iterations[static_cast<std::size_t>(b)] = it + 1;
      // Accept unless the energy rose by more than its round-off: close to the minimum the
      // decrease O(‖Δ‖²) drops below the rounding of the energy itself, while the Newton step
      // still shrinks the gradient (the convergence test is on the gradient).
      const double slack = 8 * std::numeric_limits<double>::epsilon() * std::abs(res.energy[b]);
      if (std::isfinite(trial_energy[b]) && trial_energy[b] <= res.energy[b] + slack) {
        const bool moved = trial.row(b) != res.z.row(b);
        res.z.row(b) = trial.row(b);
        res.energy[b] = trial_energy[b];
        mu[b] = std::max(mu[b] / 3.0, 1e-300);
        if (!moved) done[static_cast<std::size_t>(b)] = 1;  // the step vanished in round-off
      } else {
        mu[b] *= 4.0;
        // No damping lowers the energy: z is a minimiser to working precision.
        if (mu[b] > 1e30) done[static_cast<std::size_t>(b)] = 1;
      }
      active = active || !done[static_cast<std::size_t>(b)];
    }
    if (!active) break;
  }
  // Final measures at the returned codes.
  const Linearisation lin = linearise(m, res.z, x);
  res.energy = lin.energy;
  res.converged = 0;
  for (Index b = 0; b < n; ++b) {
    const RowTerms t = row_terms(lin, sqrt_w, lambda, res.z, b);
    res.stationarity[b] = t.stationarity;
    res.orthogonality[b] = t.orthogonality;
    res.converged += done[static_cast<std::size_t>(b)] ? 1 : 0;
  }
  return res;
}

LatentPosteriorModel::LatentPosteriorModel(LatentModel m, Matrix x, Index first_row,
                                           Index chains_per_row)
    : m_(std::move(m)), x_(std::move(x)), first_row_(first_row), per_row_(chains_per_row) {
  validate(m_);
  if (per_row_ < 1) throw Error("chains per row must be >= 1");
  if (x_.cols() != m_.decoder->data_dim())
    throw Error("the decoder writes " + std::to_string(m_.decoder->data_dim()) +
                " columns but the data have " + std::to_string(x_.cols()));
}

Matrix LatentPosteriorModel::rows_for(Index first_chain, Index n) const {
  Matrix x(n, x_.cols());
  for (Index i = 0; i < n; ++i) {
    const Index o = (first_chain + i) / per_row_ - first_row_;
    if (o < 0 || o >= x_.rows()) throw Error("latent posterior: chain without a data row");
    x.row(i) = x_.row(o);
  }
  return x;
}

Matrix LatentPosteriorModel::score_at(const Matrix& z, Index first_chain) const {
  Vector e;
  Matrix s;
  latent_energy_and_score(m_, z, rows_for(first_chain, z.rows()), e, s);
  return s;
}

void LatentPosteriorModel::energy_and_score_at(const Matrix& z, Index first_chain, Vector& e,
                                               Matrix& s) const {
  latent_energy_and_score(m_, z, rows_for(first_chain, z.rows()), e, s);
}

}  // namespace scorematch::inverse
