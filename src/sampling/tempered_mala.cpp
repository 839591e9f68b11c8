#include "scorematch/sampling/tempered_mala.hpp"

#include <cmath>
#include <limits>
#include <numbers>

namespace scorematch {

Vector DiagonalGaussian::energy(const Matrix& x) const {
  const double log_norm = sd.array().log().sum() +
                          0.5 * static_cast<double>(mean.size()) * std::log(2 * std::numbers::pi);
  return 0.5 * ((x.rowwise() - mean.transpose()).array().rowwise() / sd.transpose().array())
                   .square()
                   .rowwise()
                   .sum()
                   .matrix() +
         Vector::Constant(x.rows(), log_norm);
}

Matrix DiagonalGaussian::score(const Matrix& x) const {
  return -((x.rowwise() - mean.transpose()).array().rowwise() /
           sd.cwiseProduct(sd).transpose().array())
              .matrix();
}

void DiagonalGaussian::draw(RandomStream& rng, double* row) const {
  for (Index j = 0; j < mean.size(); ++j) row[j] = mean[j] + sd[j] * rng.normal();
}

void tempered_evaluate(const ScoreModel& model, const Matrix& x, Vector& phi, Matrix& s) {
  model.energy_and_score(x, phi, s);
  for (Index r = 0; r < phi.size(); ++r)
    if (std::isnan(phi[r])) phi[r] = std::numeric_limits<double>::infinity();
}

Vector tempered_mala_move(const ScoreModel& model, const DiagonalGaussian& reference, Matrix& x,
                          Vector& phi, Matrix& s, const Vector& beta, const Vector& alpha,
                          const Matrix& xi, const Vector& log_u) {
  const Index n = x.rows();
  const Vector& c = reference.sd;
  const Vector c2 = c.cwiseProduct(c);
  const Vector one_minus = Vector::Ones(n) - beta;
  const Matrix grad = one_minus.asDiagonal() * reference.score(x) + beta.asDiagonal() * s;
  const Matrix proposal =
      x + (alpha.asDiagonal() * grad).cwiseProduct(c2.transpose().replicate(n, 1)) +
      ((2 * alpha).cwiseSqrt().asDiagonal() * xi).cwiseProduct(c.transpose().replicate(n, 1));
  Vector phi_new;
  Matrix s_new;
  tempered_evaluate(model, proposal, phi_new, s_new);
  const Vector ref_now = reference.energy(x), ref_new = reference.energy(proposal);
  const Matrix grad_new =
      one_minus.asDiagonal() * reference.score(proposal) + beta.asDiagonal() * s_new;
  Vector accept(n);
  for (Index r = 0; r < n; ++r) {
    // U_β = (1 − β) φ₀ + β φ; β φ is 0 at β = 0 even where φ = inf.
    const double u_now = one_minus[r] * ref_now[r] + (beta[r] > 0 ? beta[r] * phi[r] : 0.0);
    const double u_new = one_minus[r] * ref_new[r] + (beta[r] > 0 ? beta[r] * phi_new[r] : 0.0);
    const double back =
        ((x.row(r) - proposal.row(r) - alpha[r] * grad_new.row(r).cwiseProduct(c2.transpose()))
             .cwiseQuotient(c.transpose()))
            .squaredNorm() /
        (4 * alpha[r]);
    const double log_ratio = u_now - u_new - back + 0.5 * xi.row(r).squaredNorm();
    accept[r] = std::isnan(log_ratio) ? 0.0 : std::min(1.0, std::exp(log_ratio));
    if (log_u[r] < log_ratio) {
      x.row(r) = proposal.row(r);
      phi[r] = phi_new[r];
      s.row(r) = s_new.row(r);
    }
  }
  return accept;
}

}  // namespace scorematch
