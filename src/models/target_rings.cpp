// rings target: in the first two coordinates (radius r = ‖x₁₂‖) a mixture of rings
//   p_k(x) = exp(−(r − R_k)²/2σ²) / (2π Z_k),  Z_k = ∫₀^∞ r e^{−(r−R_k)²/2σ²} dr
//          = σ² e^{−R_k²/2σ²} + R_k σ √(2π) Φ(R_k/σ),
// R = (1, 2, 3), weights ⅓, σ = 0.1; N(0, 1) in the other coordinates.
// Component score on the ring plane s_k = f_k(r) x/r with f_k = −(r − R_k)/σ², whose 2-D divergence
// is f_k' + f_k/r = −1/σ² + f_k/r; mixed as in the gmm: ∇·s = Σ r_k(∇·s_k + f_k²) − ‖s‖².
// Exact sampling: the radius has density ∝ r e^{−(r−R)²/2σ²} on r > 0; with u = r − R we draw
// from the envelope (R + |u|) e^{−u²/2σ²} (a mixture of N(0, σ²) and a two-sided Rayleigh) and
// accept with probability (R + u)/(R + |u|), rejecting u ≤ −R.
#include <cmath>
#include <numbers>

#include "scorematch/core/error.hpp"
#include "scorematch/models/targets.hpp"

namespace scorematch {

namespace {
class RingsTarget final : public Target {
 public:
  explicit RingsTarget(Index d) : d_(d) {
    if (d < 2) throw SettingError("rings needs " + setting("dim") + " ≥ 2");
    for (int k = 0; k < 3; ++k) {
      const double r = kRadii[k];
      const double z = kSigma * kSigma * std::exp(-r * r / (2 * kSigma * kSigma)) +
                       r * kSigma * std::sqrt(2 * std::numbers::pi) * 0.5 *
                           std::erfc(-r / (kSigma * std::numbers::sqrt2));
      log_norm_[k] = std::log(kWeight) - std::log(2 * std::numbers::pi * z);
    }
  }
  std::string kind() const override { return "rings"; }
  Index dim() const override { return d_; }

  Vector energy(const Matrix& x) const override {
    Vector out(x.rows());
    const double log_2pi = std::log(2.0 * std::numbers::pi);
    for (Index r = 0; r < x.rows(); ++r) {
      const Vector lc = log_components(radius(x, r));
      const double top = lc.maxCoeff();
      const double rest = x.row(r).tail(d_ - 2).squaredNorm();
      out[r] = -(top + std::log((lc.array() - top).exp().sum())) +
               0.5 * (rest + static_cast<double>(d_ - 2) * log_2pi);
    }
    return out;
  }
  Matrix score(const Matrix& x) const override {
    Matrix s = -x;
    for (Index r = 0; r < x.rows(); ++r) {
      const double rad = radius(x, r);
      const Vector resp = responsibilities(rad);
      double f = 0.0;
      for (int k = 0; k < 3; ++k) f += resp[k] * radial(rad, k);
      s(r, 0) = f * x(r, 0) / rad;
      s(r, 1) = f * x(r, 1) / rad;
    }
    return s;
  }
  Vector score_divergence(const Matrix& x) const override {
    Vector out(x.rows());
    for (Index r = 0; r < x.rows(); ++r) {
      const double rad = radius(x, r);
      const Vector resp = responsibilities(rad);
      double f = 0.0, acc = 0.0;
      for (int k = 0; k < 3; ++k) {
        const double fk = radial(rad, k);
        f += resp[k] * fk;
        acc += resp[k] * (-1.0 / (kSigma * kSigma) + fk / rad + fk * fk);
      }
      out[r] = acc - f * f - static_cast<double>(d_ - 2);
    }
    return out;
  }
  void draw(RandomStream& rng, double* row) const override {
    const double u0 = rng.uniform();
    const int k = u0 < 1.0 / 3 ? 0 : (u0 < 2.0 / 3 ? 1 : 2);
    const double big_r = kRadii[k];
    const double gauss_mass = big_r * kSigma * std::sqrt(2 * std::numbers::pi);
    const double p_gauss = gauss_mass / (gauss_mass + 2 * kSigma * kSigma);
    double u = 0.0;
    for (;;) {
      if (rng.uniform() < p_gauss) {
        u = kSigma * rng.normal();
      } else {
        u = kSigma * std::sqrt(-2.0 * std::log(rng.uniform()));
        if (rng.uniform() < 0.5) u = -u;
      }
      if (u > -big_r && rng.uniform() * (big_r + std::abs(u)) < big_r + u) break;
    }
    const double angle = 2 * std::numbers::pi * rng.uniform();
    row[0] = (big_r + u) * std::cos(angle);
    row[1] = (big_r + u) * std::sin(angle);
    for (Index j = 2; j < d_; ++j) row[j] = rng.normal();
  }

 private:
  static constexpr double kRadii[3] = {1.0, 2.0, 3.0};
  static constexpr double kSigma = 0.1, kWeight = 1.0 / 3.0;

  // The radius, kept off 0 where x/r is undefined (the density there is ~e^{-50}).
  static double radius(const Matrix& x, Index r) {
    return std::max(std::hypot(x(r, 0), x(r, 1)), 1e-300);
  }
  static double radial(double rad, int k) { return -(rad - kRadii[k]) / (kSigma * kSigma); }
  Vector log_components(double rad) const {
    Vector lc(3);
    for (int k = 0; k < 3; ++k)
      lc[k] = log_norm_[k] - 0.5 * std::pow((rad - kRadii[k]) / kSigma, 2);
    return lc;
  }
  Vector responsibilities(double rad) const {
    const Vector lc = log_components(rad);
    const Vector e = (lc.array() - lc.maxCoeff()).exp();
    return e / e.sum();
  }

  Index d_;
  double log_norm_[3];
};
}  // namespace

std::unique_ptr<Target> make_rings_target(Index dim) {
  return std::make_unique<RingsTarget>(dim);
}

}  // namespace scorematch
