#include "scorematch/estimators/gaussian_natural.hpp"

#include <cmath>

namespace scorematch {

namespace {
// The variables of a degree-1 or degree-2 monomial: (j, j) for z_j² and z_j, (j, k) for z_j z_k.
struct Pair {
  Index j, k;
  int degree;
};
Pair pair_of(const Exponent& e) {
  Pair p{-1, -1, 0};
  for (Index i = 0; i < static_cast<Index>(e.size()); ++i) {
    for (int r = 0; r < e[static_cast<std::size_t>(i)]; ++r) (p.j < 0 ? p.j : p.k) = i;
    p.degree += e[static_cast<std::size_t>(i)];
  }
  if (p.k < 0) p.k = p.j;
  return p;
}
}  // namespace

GaussianNatural gaussian_natural(const GaussianFit& fit, const Vector& reference) {
  const Index d = fit.mean.size();
  GaussianNatural nat{MonomialBasis::total_degree(d, 2, 1), Vector(), Vector()};
  const Index p = nat.basis.size();
  nat.theta.resize(p);
  nat.ridge_weights.resize(p);
  const Vector eta = fit.precision * (fit.mean - reference);
  for (Index m = 0; m < p; ++m) {
    const Pair q = pair_of(nat.basis.exponents()[static_cast<std::size_t>(m)]);
    if (q.degree == 1) {
      nat.theta[m] = eta[q.j];
      nat.ridge_weights[m] = 0.0;
    } else if (q.j == q.k) {
      nat.theta[m] = -0.5 * fit.precision(q.j, q.j);
      nat.ridge_weights[m] = 4.0;
    } else {
      nat.theta[m] = -fit.precision(q.j, q.k);
      nat.ridge_weights[m] = 2.0;
    }
  }
  return nat;
}

GaussianStandardErrors gaussian_standard_errors(const GaussianNatural& natural,
                                                const Matrix& theta_covariance,
                                                const GaussianFit& fit, const Vector& reference) {
  const Index d = fit.mean.size(), p = natural.basis.size();
  const Matrix sigma = fit.precision.inverse();
  const Vector offset = fit.mean - reference;
  Matrix jac_mean(d, p);  // ∂μ/∂θ
  GaussianStandardErrors se{Vector(d), Matrix(d, d)};
  for (Index m = 0; m < p; ++m) {
    const Pair q = pair_of(natural.basis.exponents()[static_cast<std::size_t>(m)]);
    const double sd = std::sqrt(std::max(0.0, theta_covariance(m, m)));
    if (q.degree == 1) {
      jac_mean.col(m) = sigma.col(q.j);
    } else if (q.j == q.k) {
      jac_mean.col(m) = 2.0 * offset[q.j] * sigma.col(q.j);
      se.precision(q.j, q.j) = 2.0 * sd;
    } else {
      jac_mean.col(m) = sigma.col(q.j) * offset[q.k] + sigma.col(q.k) * offset[q.j];
      se.precision(q.j, q.k) = se.precision(q.k, q.j) = sd;
    }
  }
  se.mean =
      (jac_mean * theta_covariance * jac_mean.transpose()).diagonal().cwiseMax(0.0).cwiseSqrt();
  return se;
}

}  // namespace scorematch
