// Polynomial exponential family  log p(x) = θᵀ T(z) − log Z(θ),  z = (x − shift) / scale,
// T = all monomials of total degree 1..K (MonomialBasis). Fitting happens in the standardised
// coordinates z; by the chain rule, in the data's units
//   s_i(x) = (∂/∂z_i θᵀT) / scale_i,   ∇·s(x) = Σ_i (∂²/∂z_i² θᵀT) / scale_i².
// Z(θ) is unknown, so energy() is −θᵀT(z) (up to a constant).
#pragma once
#include "scorematch/models/monomial_basis.hpp"
#include "scorematch/models/score_model.hpp"

namespace scorematch {

class PolynomialModel final : public ScoreModel {
 public:
  PolynomialModel(MonomialBasis basis, Vector theta, Vector shift, Vector scale);
  static PolynomialModel from_arrays(const NamedArrays& arrays);

  std::string kind() const override { return "polynomial"; }
  Index dim() const override { return basis_.dim(); }
  Vector energy(const Matrix& x) const override;
  Matrix score(const Matrix& x) const override;
  Vector score_divergence(const Matrix& x) const override;
  NamedArrays arrays() const override;

  const MonomialBasis& basis() const { return basis_; }
  const Vector& theta() const { return theta_; }
  const Vector& shift() const { return shift_; }
  const Vector& scale() const { return scale_; }
  std::optional<Standardisation> standardisation() const override {
    return Standardisation{shift_, scale_};
  }
  std::string normalisability_problem() const override {
    const LeadingFormCheck check = check_leading_form();
    return check.normalisable ? std::string() : check.message;
  }

  // Leading form q(u) = Σ_{|α|=K} θ_α u^α on the unit sphere (standardised coordinates). The
  // density is normalisable if K is even and max q < 0; we scan `directions` points of the sphere
  // (an even grid in 2-D, Philox-seeded Gaussian directions otherwise) plus the coordinate axes.
  struct LeadingFormCheck {
    bool normalisable;
    double max_value;     // largest q(u) found
    Vector argmax;        // the direction where it was found
    std::string message;  // plain-words verdict
  };
  LeadingFormCheck check_leading_form(Index directions = 20000) const;

 private:
  // Per-row value, gradient and divergence of log p, in data units.
  void evaluate(const Matrix& x, Vector* log_p, Matrix* grad, Vector* div) const;

  MonomialBasis basis_;
  Vector theta_, shift_, scale_;
};

}  // namespace scorematch
