// Gaussian density N(μ, P⁻¹) in precision form:
//   φ(x) = ½ (x−μ)ᵀ P (x−μ) + ½ d log 2π − ½ log det P   (normalised),
//   s(x) = −P (x−μ),   ∇·s = −tr P.
// Batched: the centred batch times P is one GEMM.
#pragma once
#include "scorematch/models/score_model.hpp"

namespace scorematch {

class GaussianModel final : public ScoreModel {
 public:
  GaussianModel(Vector mean, Matrix precision);
  static GaussianModel from_arrays(const NamedArrays& arrays);

  std::string kind() const override { return "gaussian"; }
  Index dim() const override { return mean_.size(); }
  Vector energy(const Matrix& x) const override;
  Matrix score(const Matrix& x) const override;
  Vector score_divergence(const Matrix& x) const override;
  bool energy_is_normalised() const override { return true; }
  NamedArrays arrays() const override;

  const Vector& mean() const { return mean_; }
  std::optional<GaussianParameters> gaussian() const override {
    return GaussianParameters{mean_, precision_};
  }
  const Matrix& precision() const { return precision_; }

 private:
  Vector mean_;
  Matrix precision_;
  double log_normaliser_;  // ½ d log 2π − ½ log det P
};

}  // namespace scorematch
