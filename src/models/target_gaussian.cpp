// gaussian target: N(μ, Σ) with μ_j = j and the AR(1) covariance Σ_jk = 0.5^|j−k|.
// Drawn as μ + L z with Σ = LLᵀ; scores via GaussianModel.
#include <cmath>

#include "scorematch/models/gaussian_model.hpp"
#include "scorematch/models/targets.hpp"

namespace scorematch {

namespace {
struct GaussianTargetParameters {
  static Vector mean(Index d) { return Vector::LinSpaced(d, 0.0, static_cast<double>(d - 1)); }
  static Matrix covariance(Index d) {
    Matrix c(d, d);
    for (Index j = 0; j < d; ++j)
      for (Index k = 0; k < d; ++k) c(j, k) = std::pow(0.5, static_cast<double>(std::abs(j - k)));
    return c;
  }
};

class GaussianTarget final : public Target, GaussianTargetParameters {
 public:
  explicit GaussianTarget(Index d) : model_(mean(d), covariance(d).inverse()) {
    chol_ = covariance(d).llt().matrixL();
  }
  std::string kind() const override { return "gaussian"; }
  Index dim() const override { return model_.dim(); }
  Vector energy(const Matrix& x) const override { return model_.energy(x); }
  Matrix score(const Matrix& x) const override { return model_.score(x); }
  Vector score_divergence(const Matrix& x) const override { return model_.score_divergence(x); }
  // The same arrays as a fitted gaussian model (mean, precision), so every consumer of a Gaussian
  // (map --method exact, the exact log-density) treats the target like a model directory.
  NamedArrays arrays() const override { return model_.arrays(); }
  std::optional<GaussianParameters> gaussian() const override { return model_.gaussian(); }
  void draw(RandomStream& rng, double* row) const override {
    Vector z(dim());
    for (Index j = 0; j < dim(); ++j) z[j] = rng.normal();
    Eigen::Map<Vector>(row, dim()) = model_.mean() + chol_ * z;
  }

 private:
  GaussianModel model_;
  Matrix chol_;
};
}  // namespace

SharedCovarianceMixture gaussian_target_mixture(Index d) {
  return {Vector::Ones(1), Matrix(GaussianTargetParameters::mean(d).transpose()),
          GaussianTargetParameters::covariance(d)};
}

std::unique_ptr<Target> make_gaussian_target(Index dim) {
  return std::make_unique<GaussianTarget>(dim);
}

}  // namespace scorematch
