// Noised shared-covariance Gaussian mixture: p(z) = Σ_k w_k N(z; a μ_k, Σ_a), Σ_a = a²C + s²I.
// With C = Q diag(λ) Qᵀ, Σ_a = Q diag(v) Qᵀ, v = a²λ + s². In rotated coordinates y_k = (z − aμ_k)Q
// and u_k = y_k ⊘ v, the component scores are s_k = −u_k Qᵀ and, with responsibilities r_k,
//   s = Σ_k r_k s_k,   ∇·s = Σ_k r_k (−tr Σ_a⁻¹ + ‖s_k‖²) − ‖s‖²,
//   vᵀ(∇s)v = Σ_k r_k (−vᵀΣ_a⁻¹v + (s_k·v)²) − (s·v)²          (∇r_k = r_k (s_k − s)),
//   (∇s)v   = Σ_k r_k (−Σ_a⁻¹v + s_k (s_k·v)) − s (s·v).
#include <Eigen/Eigenvalues>
#include <cmath>
#include <numbers>
#include <string>
#include <utility>

#include "scorematch/core/error.hpp"
#include "scorematch/sampling/noised_score.hpp"

namespace scorematch {

namespace {

class NoisedMixture final : public NoisedScore {
 public:
  NoisedMixture(const SharedCovarianceMixture& m, NoiseScheme scheme, VpSde sde, Vector shift)
      : m_(m), scheme_(scheme), sde_(sde), shift_(std::move(shift)) {
    if (shift_.size() == 0) shift_ = Vector::Zero(m.means.cols());
    if (shift_.size() != m.means.cols())
      throw Error("noised mixture: the shift has " + std::to_string(shift_.size()) +
                  " values for dimension " + std::to_string(m.means.cols()));
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(m.covariance);
    lambda_ = eig.eigenvalues();
    q_ = eig.eigenvectors();
  }
  Index dim() const override { return m_.means.cols(); }
  NoiseScheme scheme() const override { return scheme_; }
  VpSde sde() const override { return sde_; }
  Vector shift() const override { return shift_; }

  Matrix score(const Matrix& z, double level) const override {
    return Components(*this, z, level).score_rotated() * q_.transpose();
  }
  Vector divergence(const Matrix& z, double level) const override {
    const Components c(*this, z, level);
    const Matrix s = c.score_rotated();
    Vector out = -c.inv_v.sum() * Vector::Ones(z.rows()) - s.rowwise().squaredNorm();
    for (Index k = 0; k < c.K(); ++k)
      out.array() += c.r.col(k).array() * c.u[k].rowwise().squaredNorm().array();
    return out;
  }
  Matrix probe_quadratic(const Matrix& z, double level, const Matrix& probes,
                         Index K) const override {
    const Components c(*this, z, level);
    const Matrix s = c.score_rotated();
    const Matrix w = probes * q_;  // rotated probes, row i·K + k
    Matrix out(z.rows(), K);
    for (Index i = 0; i < z.rows(); ++i)
      for (Index p = 0; p < K; ++p) {
        const auto wp = w.row(i * K + p);
        double acc = -(wp.array().square() * c.inv_v.transpose().array()).sum();
        for (Index k = 0; k < c.K(); ++k) {
          const double sk_v = -c.u[static_cast<std::size_t>(k)].row(i).dot(wp);
          acc += c.r(i, k) * sk_v * sk_v;
        }
        const double s_v = s.row(i).dot(wp);
        out(i, p) = acc - s_v * s_v;
      }
    return out;
  }
  Matrix jacobian_product(const Matrix& z, double level, const Matrix& v) const override {
    if (v.rows() != z.rows() || v.cols() != dim())
      throw Error("Jacobian-vector product: directions must be rows × d, like the inputs");
    const Components c(*this, z, level);
    const Matrix s = c.score_rotated(), w = v * q_;  // rotated directions
    Matrix out = -(w.array().rowwise() * c.inv_v.transpose().array()).matrix();
    out -= (s.array().colwise() * (s.array() * w.array()).rowwise().sum()).matrix();
    for (Index k = 0; k < c.K(); ++k) {
      const Matrix& u = c.u[static_cast<std::size_t>(k)];  // s_k = −u_k
      const Eigen::ArrayXd sk_w = -(u.array() * w.array()).rowwise().sum();
      out -= (u.array().colwise() * (c.r.col(k).array() * sk_w)).matrix();
    }
    return out * q_.transpose();
  }

 private:
  // Per-batch quantities at one noise level.
  struct Components {
    Components(const NoisedMixture& mix, const Matrix& z, double level) {
      if (z.cols() != mix.dim())
        throw Error("noised mixture has dimension " + std::to_string(mix.dim()) +
                    " but the input has " + std::to_string(z.cols()) + " columns");
      double a = 1.0, s = level;
      if (mix.scheme_ == NoiseScheme::vpsde) {
        a = mix.sde_.alpha(level);
        s = mix.sde_.sigma(level);
      }
      const Vector v = (a * a * mix.lambda_.array() + s * s).matrix();
      inv_v = v.cwiseInverse();
      const Index n = z.rows(), kk = mix.m_.weights.size();
      const double log_norm = -0.5 * (2.0 * std::numbers::pi * v.array()).log().sum();
      Matrix logp(n, kk);
      for (Index k = 0; k < kk; ++k) {
        const Matrix y = (z.rowwise() - a * mix.m_.means.row(k)) * mix.q_;
        u.push_back((y.array().rowwise() * inv_v.transpose().array()).matrix());
        logp.col(k) = (std::log(mix.m_.weights[k]) + log_norm -
                       0.5 * (y.array() * u.back().array()).rowwise().sum())
                          .matrix();
      }
      r = (logp.colwise() - logp.rowwise().maxCoeff()).array().exp().matrix();
      r = (r.array().colwise() / r.rowwise().sum().array()).matrix();
    }
    Index K() const { return r.cols(); }
    Matrix score_rotated() const {
      Matrix s = Matrix::Zero(u[0].rows(), u[0].cols());
      for (Index k = 0; k < K(); ++k)
        s -= (u[static_cast<std::size_t>(k)].array().colwise() * r.col(k).array()).matrix();
      return s;
    }
    Vector inv_v;
    std::vector<Matrix> u;
    Matrix r;
  };

  SharedCovarianceMixture m_;
  NoiseScheme scheme_;
  VpSde sde_;
  Vector shift_;  // data x = shift + z; the mixture lives in z
  Vector lambda_;
  Matrix q_;
};

}  // namespace

std::unique_ptr<NoisedScore> make_noised_mixture(const SharedCovarianceMixture& mixture,
                                                 NoiseScheme scheme, VpSde sde, Vector shift) {
  return std::make_unique<NoisedMixture>(mixture, scheme, sde, std::move(shift));
}

Matrix NoisedScore::jacobian_product(const Matrix&, double, const Matrix&) const {
  throw Error("this score offers no Jacobian-vector product");
}

std::string noise_scheme_name(NoiseScheme scheme) {
  return scheme == NoiseScheme::sigma ? "sigma" : "vpsde";
}

}  // namespace scorematch
