// gmm target: p(x) = Σ_k w_k N(x; μ_k, σ²I), σ = 0.6, w = (0.5, 0.3, 0.2).
// With responsibilities r_k(x) and component scores s_k = −(x − μ_k)/σ²:
//   s = Σ_k r_k s_k,   ∇·s = Σ_k r_k (∇·s_k + ‖s_k‖²) − ‖s‖²,   ∇·s_k = −d/σ²
// (from ∇r_k = r_k (s_k − s)). Log-sum-exp keeps r_k finite far from all modes.
#include <cmath>
#include <numbers>

#include "scorematch/core/error.hpp"
#include "scorematch/models/targets.hpp"

namespace scorematch {

namespace {
class GmmTarget final : public Target {
 public:
  explicit GmmTarget(Index d) : d_(d), means_(gmm_target_mixture(d).means) {}
  std::string kind() const override { return "gmm"; }
  Index dim() const override { return d_; }

  Vector energy(const Matrix& x) const override {
    Vector out(x.rows());
    for (Index r = 0; r < x.rows(); ++r) {
      const Vector lw = log_weighted(x.row(r).transpose());
      const double top = lw.maxCoeff();
      out[r] = -(top + std::log((lw.array() - top).exp().sum()));
    }
    return out;
  }
  Matrix score(const Matrix& x) const override {
    Matrix out(x.rows(), d_);
    for (Index r = 0; r < x.rows(); ++r) {
      const Vector resp = responsibilities(x.row(r).transpose());
      out.row(r) = -(x.row(r) - resp.transpose() * means_) / kVar;
    }
    return out;
  }
  Vector score_divergence(const Matrix& x) const override {
    Vector out(x.rows());
    for (Index r = 0; r < x.rows(); ++r) {
      const Vector xr = x.row(r).transpose();
      const Vector resp = responsibilities(xr);
      Vector s = Vector::Zero(d_);
      double acc = 0.0;
      for (int k = 0; k < 3; ++k) {
        const Vector sk = -(xr - means_.row(k).transpose()) / kVar;
        s += resp[k] * sk;
        acc += resp[k] * (-static_cast<double>(d_) / kVar + sk.squaredNorm());
      }
      out[r] = acc - s.squaredNorm();
    }
    return out;
  }
  void draw(RandomStream& rng, double* row) const override {
    const double u = rng.uniform();
    const int k = u < kWeights[0] ? 0 : (u < kWeights[0] + kWeights[1] ? 1 : 2);
    for (Index j = 0; j < d_; ++j) row[j] = means_(k, j) + std::sqrt(kVar) * rng.normal();
  }

 private:
  static constexpr double kVar = 0.36;
  static constexpr double kWeights[3] = {0.5, 0.3, 0.2};

  // log(w_k N(x; μ_k, σ²I)) for each k.
  Vector log_weighted(const Vector& x) const {
    Vector lw(3);
    const double log_norm =
        -0.5 * static_cast<double>(d_) * std::log(2.0 * std::numbers::pi * kVar);
    for (int k = 0; k < 3; ++k)
      lw[k] = std::log(kWeights[k]) + log_norm -
              0.5 * (x - means_.row(k).transpose()).squaredNorm() / kVar;
    return lw;
  }
  Vector responsibilities(const Vector& x) const {
    const Vector lw = log_weighted(x);
    const Vector e = (lw.array() - lw.maxCoeff()).exp();
    return e / e.sum();
  }

  Index d_;
  Matrix means_;
};
}  // namespace

SharedCovarianceMixture gmm_target_mixture(Index d) {
  if (d < 2) throw SettingError("gmm needs " + setting("dim") + " ≥ 2");
  SharedCovarianceMixture m{Vector(3), Matrix::Zero(3, d), 0.36 * Matrix::Identity(d, d)};
  const double angles[3] = {90.0, 210.0, 330.0};
  const double weights[3] = {0.5, 0.3, 0.2};
  for (int k = 0; k < 3; ++k) {
    m.weights[k] = weights[k];
    m.means(k, 0) = 3.0 * std::cos(angles[k] * std::numbers::pi / 180.0);
    m.means(k, 1) = 3.0 * std::sin(angles[k] * std::numbers::pi / 180.0);
  }
  return m;
}

std::unique_ptr<Target> make_gmm_target(Index dim) {
  return std::make_unique<GmmTarget>(dim);
}

}  // namespace scorematch
