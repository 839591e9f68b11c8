// Monomial sufficient statistics T_m(z) = Π_j z_j^{α_mj} of a polynomial exponential family, with
// their first derivatives ∂T_m/∂z_i and weighted second derivatives Σ_i w_i ∂²T_m/∂z_i².
// Only the non-zero exponents of each monomial are stored, so one point costs O(p · deg²).
#pragma once
#include <vector>

#include "scorematch/core/types.hpp"

namespace scorematch {

using Exponent = std::vector<int>;

class MonomialBasis {
 public:
  MonomialBasis(Index dim, std::vector<Exponent> exponents);
  // All monomials with min_degree ≤ total degree ≤ max_degree, graded lexicographic order.
  static MonomialBasis total_degree(Index dim, int max_degree, int min_degree = 1);

  Index dim() const { return dim_; }
  Index size() const { return static_cast<Index>(exponents_.size()); }
  int max_degree() const { return max_degree_; }
  const std::vector<Exponent>& exponents() const { return exponents_; }

  // At one point z (length dim): value(m) = T_m, jac(i, m) = ∂T_m/∂z_i (dim × size),
  // lap(m) = Σ_i weight_i ∂²T_m/∂z_i². Outputs are resized as needed.
  void evaluate(const double* z, const Vector& weight, Vector& value, Matrix& jac,
                Vector& lap) const;

 private:
  struct Factor {
    Index var;
    int power;
  };
  Index dim_;
  int max_degree_ = 0;
  std::vector<Exponent> exponents_;
  std::vector<std::vector<Factor>> factors_;
};

}  // namespace scorematch
