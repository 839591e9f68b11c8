// Forward operators of linear inverse problems y = A x + ε, ε ~ N(0, σ_y² I), applied to batches
// (one signal per row). Every operator also applies its adjoint Aᵀ, which the posterior score
//   ∇ₓ log p(x | y) = s(x) + Aᵀ(y − A x) / σ_y²
// needs; tests check ⟨A x, y⟩ = ⟨x, Aᵀ y⟩ for each one.
// Row-dependent operators (a pixel mask per observation) take the global index of the batch's first
// row, so that a rank applies the right mask to its own rows.
#pragma once
#include <memory>
#include <string>

#include "scorematch/core/types.hpp"

namespace scorematch::inverse {

class LinearOperator {
 public:
  virtual ~LinearOperator() = default;
  virtual std::string name() const = 0;
  // A = I (denoising): posterior means by Tweedie's formula apply only then.
  virtual bool is_identity() const { return false; }
  // A = diag(m), m ∈ {0, 1}ᵈ (identity, pixel mask): AᵀA = A, so a sampler may impute y.
  virtual bool selects_coordinates() const { return false; }
  virtual Index in_dim() const = 0;   // d: the signal
  virtual Index out_dim() const = 0;  // m: the observation
  // x: n × d → n × m, and y: n × m → n × d; `first_row` is the global index of row 0.
  virtual Matrix apply(const Matrix& x, Index first_row = 0) const = 0;
  virtual Matrix adjoint(const Matrix& y, Index first_row = 0) const = 0;
  // AᵀA as a d × d matrix for global row `row` (closed-form Gaussian posteriors).
  virtual Matrix gram(Index row) const;
};

// A = I (denoising).
std::unique_ptr<LinearOperator> make_identity(Index d);
// A = diag(m_i) for observation i (inpainting): masks is k × d of 0/1, one row per observation or a
// single row shared by all; unobserved entries of y are ignored (A x has zeros there).
std::unique_ptr<LinearOperator> make_mask(Matrix masks);
// 2-D convolution of h × w images stored row-major (d = h·w) with a (2a+1) × (2b+1) kernel,
// boundary "zero" (pixels outside are 0) or "reflect" (mirrored without repeating the edge pixel).
std::unique_ptr<LinearOperator> make_blur(Index h, Index w, Matrix kernel,
                                          const std::string& boundary);
// A dense m × d matrix (compressed sensing).
std::unique_ptr<LinearOperator> make_dense(Matrix a);

}  // namespace scorematch::inverse
