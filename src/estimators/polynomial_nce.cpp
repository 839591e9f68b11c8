#include "scorematch/estimators/polynomial_nce.hpp"

#include <cmath>
#include <numbers>

#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"
#include "scorematch/estimators/polynomial_sm.hpp"

namespace scorematch {

namespace {
// Data rows per chunk: a power of two dividing kFitBlock, so chunks are the same global rows on
// any decomposition (their sums are exact anyway; the chunk only fixes each GEMM's rows).
constexpr Index kChunk = 64;

double sigmoid(double a) {
  return 1.0 / (1.0 + std::exp(-a));
}

// Features F = (T(z), −1) of each row of x, and the offset −log q(x) − log ν.
void features(const NceProblem& pb, const Matrix& x, Matrix& F, Vector& offset) {
  const Index n = x.rows(), d = x.cols(), p = pb.basis.size();
  F.resize(n, p + 1);
  offset.resize(n);
  const Vector ones = Vector::Ones(d);
  Vector z(d), value;
  Matrix jac;
  Vector lap;
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < d; ++j) z[j] = (x(i, j) - pb.shift[j]) / pb.scale[j];
    pb.basis.evaluate(z.data(), ones, value, jac, lap);
    F.row(i).head(p) = value.transpose();
    F(i, p) = -1.0;
    const Vector row = x.row(i).transpose();
    offset[i] = -pb.noise.log_density(row.data()) - std::log(static_cast<double>(pb.ratio));
  }
}

// The noise rows of global data rows [first, first + count): row i·ν + k.
Matrix noise_rows(const NceProblem& pb, Index first, Index count) {
  const Index d = pb.noise.dim();
  Matrix y(count * pb.ratio, d);
  const std::uint64_t key = derive_seed(pb.seed, kNceNoiseTag);
  Vector row(d);
  for (Index i = 0; i < count; ++i)
    for (Index k = 0; k < pb.ratio; ++k) {
      RandomStream rng(key, static_cast<std::uint64_t>((first + i) * pb.ratio + k));
      pb.noise.draw(rng, row.data());
      y.row(i * pb.ratio + k) = row.transpose();
    }
  return y;
}
}  // namespace

NceNoise NceNoise::gaussian(const Vector& mean, const Matrix& covariance) {
  NceNoise q;
  q.kind = "gaussian";
  q.mean = mean;
  Eigen::LLT<Matrix> llt(covariance);
  if (llt.info() != Eigen::Success)
    throw Error(
        "NCE noise: the data's covariance is not positive definite (a constant or "
        "collinear column?)");
  q.chol = llt.matrixL();
  return q;
}

NceNoise NceNoise::uniform(const Vector& data_min, const Vector& data_max) {
  NceNoise q;
  q.kind = "uniform";
  const Vector pad = 0.1 * (data_max - data_min);
  q.lo = data_min - pad;
  q.hi = data_max + pad;
  if (!((q.hi - q.lo).array() > 0).all())
    throw Error("NCE noise: a constant column has no bounding box to draw uniform noise from");
  return q;
}

double NceNoise::log_density(const double* x) const {
  const Index d = dim();
  if (kind == "uniform") {
    for (Index j = 0; j < d; ++j)
      if (x[j] < lo[j] || x[j] > hi[j]) return -std::numeric_limits<double>::infinity();
    return -(hi - lo).array().log().sum();
  }
  const Vector u = chol.triangularView<Eigen::Lower>().solve(Eigen::Map<const Vector>(x, d) - mean);
  return -0.5 * u.squaredNorm() - chol.diagonal().array().log().sum() -
         0.5 * static_cast<double>(d) * std::log(2 * std::numbers::pi);
}

void NceNoise::draw(RandomStream& rng, double* row) const {
  const Index d = dim();
  if (kind == "uniform") {
    for (Index j = 0; j < d; ++j) row[j] = lo[j] + (hi[j] - lo[j]) * rng.uniform();
    return;
  }
  Vector xi(d);
  for (Index j = 0; j < d; ++j) xi[j] = rng.normal();
  Eigen::Map<Vector>(row, d) = mean + chol * xi;
}

ExactVectorSum nce_partials(const NceProblem& pb, const Matrix& x, Index first_row,
                            const Vector& psi, bool sandwich) {
  const Index q = pb.basis.size() + 1;
  const std::size_t m = static_cast<std::size_t>(1 + q + 2 * q * q);
  return parallel::exact_reduce(x.rows(), kChunk, m, [&](Index begin, Index end) {
    std::vector<double> out(m, 0.0);
    const Index count = end - begin;
    Matrix Fd, Fn;
    Vector od, on;
    features(pb, x.middleRows(begin, count), Fd, od);
    features(pb, noise_rows(pb, first_row + begin, count), Fn, on);
    const Vector eta_d = Fd * psi + od, eta_n = Fn * psi + on;
    // Data rows: loss softplus(−η), gradient −(1 − h) F. Noise rows: softplus(η), +h F.
    Vector rd(count), wd(count), rn(eta_n.size()), wn(eta_n.size());
    double loss = 0;
    for (Index i = 0; i < count; ++i) {
      const double h = sigmoid(eta_d[i]);
      loss += softplus(-eta_d[i]);
      rd[i] = -(1 - h);
      wd[i] = h * (1 - h);
    }
    for (Index i = 0; i < eta_n.size(); ++i) {
      const double h = sigmoid(eta_n[i]);
      loss += softplus(eta_n[i]);
      rn[i] = h;
      wn[i] = h * (1 - h);
    }
    out[0] = loss;
    Eigen::Map<Vector>(out.data() + 1, q) = Fd.transpose() * rd + Fn.transpose() * rn;
    Eigen::Map<Matrix>(out.data() + 1 + q, q, q) =
        Fd.transpose() * wd.asDiagonal() * Fd + Fn.transpose() * wn.asDiagonal() * Fn;
    if (sandwich) {
      // u_i = −(1 − h_i) F_i + Σ_k h_ik F_ik: one row per data row with its noise rows.
      Matrix U = rd.asDiagonal() * Fd;
      const Matrix noise_terms = rn.asDiagonal() * Fn;
      for (Index i = 0; i < count; ++i)
        U.row(i) += noise_terms.middleRows(i * pb.ratio, pb.ratio).colwise().sum();
      Eigen::Map<Matrix>(out.data() + 1 + q + q * q, q, q) = U.transpose() * U;
    }
    return out;
  });
}

NceFit fit_polynomial_nce(const Collective& collective, const NceProblem& pb, const Matrix& x,
                          Index first_row, Index n) {
  if (pb.ratio < 1) throw InvalidSetting("noise_ratio", "be at least 1", std::to_string(pb.ratio));
  // ν noise rows per data row: bounded so rows × ν cannot overflow (memory is checked by callers).
  if (pb.ratio > (Index{1} << 30))
    throw InvalidSetting("noise_ratio", "be at most 2^30", std::to_string(pb.ratio));
  if (!(pb.ridge >= 0) || !std::isfinite(pb.ridge))
    throw InvalidSetting("ridge", "be a finite number >= 0");
  const Index p = pb.basis.size(), q = p + 1;
  const double rows = static_cast<double>(n);
  Vector ridge_weights = Vector::Constant(q, pb.ridge);
  ridge_weights[p] = 0;  // c is not penalised
  struct State {
    double loss;
    Vector grad;
    Matrix hess, uu;
  };
  auto evaluate = [&](const Vector& psi, bool sandwich) {
    const std::vector<double> s =
        exact_sum_over_ranks(collective, nce_partials(pb, x, first_row, psi, sandwich));
    State st;
    st.loss = s[0] / rows;
    st.grad = Eigen::Map<const Vector>(s.data() + 1, q) / rows;
    st.hess = Eigen::Map<const Matrix>(s.data() + 1 + q, q, q) / rows;
    st.uu = Eigen::Map<const Matrix>(s.data() + 1 + q + q * q, q, q);
    // The ridge term (λ/2)‖θ‖² is part of what Newton minimises.
    st.loss += 0.5 * psi.cwiseProduct(ridge_weights).dot(psi);
    st.grad += ridge_weights.cwiseProduct(psi);
    st.hess.diagonal() += ridge_weights;
    return st;
  };
  Vector psi = Vector::Zero(q);
  State st = evaluate(psi, false);
  NceFit fit;
  for (Index it = 1;; ++it) {
    if (it > 100)
      throw Error("NCE: Newton's method did not converge in 100 iterations (gradient norm " +
                  std::to_string(st.grad.norm()) + "); try " + setting("ridge") + " 1e-6");
    Eigen::LDLT<Matrix> ldlt(st.hess);
    if (ldlt.info() != Eigen::Success || !(ldlt.vectorD().array() > 0).all())
      throw Error("NCE: the Hessian is singular (collinear monomials?); try " + setting("ridge") +
                  " 1e-6");
    const Vector step = -ldlt.solve(st.grad);
    const double decrement = -st.grad.dot(step);  // Newton decrement λ² = gᵀH⁻¹g
    fit.iterations = it;
    if (decrement / 2 <= 1e-15 * (1 + std::fabs(st.loss))) break;
    // Backtracking (Armijo) line search; convexity guarantees a decrease for small t.
    double t = 1;
    State next = evaluate(psi + step, false);
    while (!(next.loss <= st.loss - 1e-4 * t * decrement) && t > 1e-10) {
      t *= 0.5;
      next = evaluate(psi + t * step, false);
    }
    if (t <= 1e-10) break;  // no further decrease at machine precision
    psi += t * step;
    st = std::move(next);
  }
  const State final_state = evaluate(psi, true);
  const Matrix h_inv = final_state.hess.ldlt().solve(Matrix::Identity(q, q));
  fit.theta = psi.head(p);
  fit.log_normaliser = psi[p];
  fit.covariance = h_inv * (final_state.uu / (rows * rows)) * h_inv;
  fit.loss = final_state.loss - 0.5 * psi.cwiseProduct(ridge_weights).dot(psi);
  fit.gradient_norm = final_state.grad.norm();
  return fit;
}

}  // namespace scorematch
