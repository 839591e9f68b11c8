// The Gaussian as an exponential family, for its sandwich standard errors. In coordinates
// z = x − c, log p = ηᵀz − ½ zᵀPz + const with η = P(μ − c), i.e. θᵀT(z) over the monomials of
// degree 1 and 2: θ_{e_j} = η_j, θ_{2e_j} = −½P_jj, θ_{e_j+e_k} = −P_jk (j < k).
// The ridge ½λ‖P‖²_F = ½λ(Σ_j 4θ_{2e_j}² + Σ_{j<k} 2θ_{e_j+e_k}²) gives the penalty weights R.
// Standard errors of μ = c + P⁻¹η follow by the delta method, dμ = P⁻¹(dη − dP (μ − c)).
#pragma once
#include "scorematch/core/types.hpp"
#include "scorematch/estimators/gaussian_sm.hpp"
#include "scorematch/models/monomial_basis.hpp"

namespace scorematch {

struct GaussianNatural {
  MonomialBasis basis;   // degree 1 and 2 monomials in d variables
  Vector theta;          // natural parameters in z = x − reference
  Vector ridge_weights;  // diagonal of R
};

GaussianNatural gaussian_natural(const GaussianFit& fit, const Vector& reference);

struct GaussianStandardErrors {
  Vector mean;       // (d)
  Matrix precision;  // (d × d), symmetric
};

GaussianStandardErrors gaussian_standard_errors(const GaussianNatural& natural,
                                                const Matrix& theta_covariance,
                                                const GaussianFit& fit, const Vector& reference);

}  // namespace scorematch
