// banana target (twisted Gaussian, Haario et al. 1999) with a = 1, b = 1:
//   x₁ ~ N(0, a²),  x₂ | x₁ ~ N(b(x₁² − a²), 1),  x_j ~ N(0, 1) for j ≥ 3.
// With u = x₂ − b(x₁² − a²):  s₁ = −x₁/a² + 2b x₁ u,  s₂ = −u,  s_j = −x_j,
//   ∇·s = −1/a² + 2bu − 4b²x₁² − 1 − (d − 2).
#include <cmath>
#include <numbers>

#include "scorematch/core/error.hpp"
#include "scorematch/models/targets.hpp"

namespace scorematch {

namespace {
class BananaTarget final : public Target {
 public:
  explicit BananaTarget(Index d) : d_(d) {
    if (d < 2) throw SettingError("banana needs " + setting("dim") + " ≥ 2");
  }
  std::string kind() const override { return "banana"; }
  Index dim() const override { return d_; }

  Vector energy(const Matrix& x) const override {
    const double log_2pi = std::log(2.0 * std::numbers::pi);
    Vector out(x.rows());
    for (Index r = 0; r < x.rows(); ++r) {
      const double x1 = x(r, 0), u = twist(x(r, 0), x(r, 1));
      const double rest = x.row(r).tail(d_ - 2).squaredNorm();
      out[r] =
          0.5 * (x1 * x1 / kA2 + std::log(kA2) + u * u + rest + static_cast<double>(d_) * log_2pi);
    }
    return out;
  }
  Matrix score(const Matrix& x) const override {
    Matrix s = -x;
    for (Index r = 0; r < x.rows(); ++r) {
      const double x1 = x(r, 0), u = twist(x(r, 0), x(r, 1));
      s(r, 0) = -x1 / kA2 + 2.0 * kB * x1 * u;
      s(r, 1) = -u;
    }
    return s;
  }
  Vector score_divergence(const Matrix& x) const override {
    Vector out(x.rows());
    for (Index r = 0; r < x.rows(); ++r) {
      const double x1 = x(r, 0), u = twist(x(r, 0), x(r, 1));
      out[r] =
          -1.0 / kA2 + 2.0 * kB * u - 4.0 * kB * kB * x1 * x1 - 1.0 - static_cast<double>(d_ - 2);
    }
    return out;
  }
  void draw(RandomStream& rng, double* row) const override {
    for (Index j = 0; j < d_; ++j) row[j] = rng.normal();
    row[0] *= std::sqrt(kA2);
    row[1] += kB * (row[0] * row[0] - kA2);
  }

 private:
  static constexpr double kA2 = 1.0, kB = 1.0;
  static double twist(double x1, double x2) { return x2 - kB * (x1 * x1 - kA2); }
  Index d_;
};
}  // namespace

std::unique_ptr<Target> make_banana_target(Index dim) {
  return std::make_unique<BananaTarget>(dim);
}

}  // namespace scorematch
