// Noise-contrastive estimation of the polynomial exponential family, solved to optimality
// (Gutmann & Hyvärinen 2010, "Noise-contrastive estimation: a new estimation principle for
// unnormalized statistical models", AISTATS; 2012, JMLR 13:307–361).
//
// The model, with its log-normaliser c as a free parameter ψ = (θ, c):
//   log p_ψ(x) = θᵀT(z) − c,   z = (x − shift) ⊘ scale   (data units; T = MonomialBasis).
// n data rows x_i (label 1) are contrasted with ν n noise rows y_ik ~ q (label 0). With
//   G(x) = log p_ψ(x) − log q(x),   h(x) = σ(G(x) − log ν),
// NCE minimises the logistic loss
//   L(ψ) = −(1/n) [ Σ_i log h(x_i) + Σ_ik log(1 − h(y_ik)) ] + (λ/2)‖θ‖².
// G is linear in ψ with features F(x) = (T(z), −1), so L is a logistic regression with offset
// −log q(x) − log ν: convex, with
//   ∇L = (1/n) [ −Σ_i (1 − h_i) F_i + Σ_ik h_ik F_ik ] + λ(θ, 0),
//   ∇²L = (1/n) Σ_rows h(1 − h) F Fᵀ + λ diag(1, …, 1, 0),
// and is minimised by Newton's method with a backtracking line search. At the optimum, c
// estimates log ∫ exp(θᵀT(z)) dx (the NCE fit is self-normalised: Theorem 1 of the 2012 paper).
//
// Standard errors (sandwich; each data row with its ν noise rows is one independent unit):
//   u_i = −(1 − h_i) F_i + Σ_k h_ik F_ik,   Cov(ψ̂) ≈ H⁻¹ (Σ_i u_i u_iᵀ / n²) H⁻¹.
//
// Noise: "gaussian" N(μ, Σ) with the data's mean and covariance (maximum likelihood), or
// "uniform" on the data's bounding box widened by 10% of each side's width. Noise row k of data
// row i is drawn from RandomStream(derive_seed(seed, kNceNoiseTag), i·ν + k), so the fit is the
// same for any decomposition. Sums over rows are exact (core/long_accumulator.hpp) over chunks of
// whole global rows: bitwise identical for any number of ranks and threads.
#pragma once
#include <cstdint>
#include <string>

#include "scorematch/core/collective.hpp"
#include "scorematch/core/long_accumulator.hpp"
#include "scorematch/core/random_stream.hpp"
#include "scorematch/core/types.hpp"
#include "scorematch/models/monomial_basis.hpp"
#include "scorematch/objectives/nce_terms.hpp"  // kNceNoiseTag, softplus

namespace scorematch {

// The noise distribution q, with an exact log-density.
struct NceNoise {
  std::string kind;  // gaussian | uniform
  Vector mean;       // gaussian
  Matrix chol;       // gaussian: lower Cholesky factor of Σ
  Vector lo, hi;     // uniform: the box
  static NceNoise gaussian(const Vector& mean, const Matrix& covariance);
  static NceNoise uniform(const Vector& data_min, const Vector& data_max);
  double log_density(const double* x) const;
  void draw(RandomStream& rng, double* row) const;
  Index dim() const { return kind == "gaussian" ? mean.size() : lo.size(); }
};

struct NceProblem {
  MonomialBasis basis;
  Vector shift, scale;
  NceNoise noise;
  Index ratio = 10;  // ν: noise rows per data row
  std::uint64_t seed = 0;
  double ridge = 0;  // λ on θ (not on c)
};

// Row sums over local data rows x (global rows first_row …; first_row a multiple of kFitBlock as
// the closed-form fits shard them) and their noise rows, at ψ: the packed buffer
//   [Σ loss terms, Σ gradient terms (p + 1), Σ Hessian terms ((p + 1)²), Σ u uᵀ ((p + 1)²)],
// unnormalised (divide by n) and without the ridge. The u uᵀ block is filled only if `sandwich`.
ExactVectorSum nce_partials(const NceProblem& problem, const Matrix& x, Index first_row,
                            const Vector& psi, bool sandwich);

struct NceFit {
  Vector theta;               // p
  double log_normaliser = 0;  // c
  Matrix covariance;          // (p + 1)² sandwich covariance of ψ̂ (c last)
  double loss = 0;            // L at the optimum (without the ridge)
  Index iterations = 0;
  double gradient_norm = 0;  // ‖∇L‖ at the optimum
};

// Minimises L over the rows of every rank (x: this rank's rows, first_row its first global
// row, n the total). Throws Error if Newton fails to converge in 100 iterations.
NceFit fit_polynomial_nce(const Collective& collective, const NceProblem& problem, const Matrix& x,
                          Index first_row, Index n);

}  // namespace scorematch
