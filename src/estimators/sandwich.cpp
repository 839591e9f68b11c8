#include "scorematch/estimators/sandwich.hpp"

#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"

namespace scorematch {

namespace {
constexpr Index kRowsPerChunk = 512;
}

SandwichStats SandwichStats::zeros(Index p) {
  return {0.0, Matrix::Zero(p, p), Vector::Zero(p), Matrix::Zero(p, p)};
}

void SandwichStats::add(const SandwichStats& other) {
  count += other.count;
  hessian_sum += other.hessian_sum;
  gradient_sum += other.gradient_sum;
  outer_sum += other.outer_sum;
}

std::vector<double> SandwichStats::pack() const {
  std::vector<double> buffer{count};
  buffer.insert(buffer.end(), hessian_sum.data(), hessian_sum.data() + hessian_sum.size());
  buffer.insert(buffer.end(), gradient_sum.data(), gradient_sum.data() + gradient_sum.size());
  buffer.insert(buffer.end(), outer_sum.data(), outer_sum.data() + outer_sum.size());
  return buffer;
}

SandwichStats SandwichStats::unpack(const std::vector<double>& buffer, Index p) {
  SandwichStats s = zeros(p);
  const double* at = buffer.data();
  s.count = *at++;
  s.hessian_sum = Eigen::Map<const Matrix>(at, p, p);
  at += p * p;
  s.gradient_sum = Eigen::Map<const Vector>(at, p);
  at += p;
  s.outer_sum = Eigen::Map<const Matrix>(at, p, p);
  return s;
}

SandwichStats accumulate_sandwich(const Matrix& x, const Vector& shift, const Vector& scale,
                                  const MonomialBasis& basis, const Vector& theta,
                                  const Vector& ridge_penalty) {
  return SandwichStats::unpack(
      sandwich_partials(x, shift, scale, basis, theta, ridge_penalty).values(), basis.size());
}

ExactVectorSum sandwich_partials(const Matrix& x, const Vector& shift, const Vector& scale,
                                 const MonomialBasis& basis, const Vector& theta,
                                 const Vector& ridge_penalty) {
  const Index p = basis.size(), d = basis.dim();
  const Vector ones = Vector::Ones(d);
  const Vector penalty_gradient = ridge_penalty.cwiseProduct(theta);
  return parallel::exact_reduce(
      x.rows(), kRowsPerChunk, static_cast<std::size_t>(1 + p * p + p + p * p),
      [&](Index begin, Index end) {
        SandwichStats s = SandwichStats::zeros(p);
        Matrix g(end - begin, p), jac;
        Vector value, lap, z;
        for (Index r = begin; r < end; ++r) {
          z = (x.row(r).transpose() - shift).cwiseQuotient(scale);
          basis.evaluate(z.data(), ones, value, jac, lap);
          s.hessian_sum.noalias() += jac.transpose() * jac;
          g.row(r - begin) = (jac.transpose() * (jac * theta) + lap + penalty_gradient).transpose();
        }
        s.count = static_cast<double>(end - begin);
        s.gradient_sum = g.colwise().sum().transpose();
        s.outer_sum.noalias() = g.transpose() * g;
        return s.pack();
      });
}

Matrix sandwich_covariance(const SandwichStats& stats, const Vector& ridge_penalty) {
  if (stats.count < 2.0) throw Error("standard errors need at least 2 rows");
  const double n = stats.count;
  const Vector mean_g = stats.gradient_sum / n;
  const Matrix cov_g = stats.outer_sum / n - mean_g * mean_g.transpose();
  const Matrix h = stats.hessian_sum / n + Matrix(ridge_penalty.asDiagonal());
  Eigen::LDLT<Eigen::MatrixXd> ldlt(h);
  if (ldlt.info() != Eigen::Success) throw Error("standard errors: the Hessian is singular");
  const Matrix h_inv_cov = ldlt.solve(cov_g);
  const Matrix result = ldlt.solve(h_inv_cov.transpose()).transpose() / n;
  return 0.5 * (result + result.transpose());
}

}  // namespace scorematch
