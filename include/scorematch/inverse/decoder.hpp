// Decoders f: ℝᵏ → ℝᵈ from latent codes z to data x, for latent scores of generative models
// x = f(z) + ε, ε ~ N(0, Σ) (principal flows / probabilistic PCA style).
//   linear:  f(z) = W z + b, W [d, k] (probabilistic PCA's decoder); J_f = W.
//   mlp:     an MLP ℝᵏ → ℝᵈ (models/mlp.hpp, output = decoder); J_f from the forward jets with
//            K = k identity tangents (jets/mlp_jet.hpp): one sweep gives f(z) and all of J_f(z).
// Every method works on a batch of n codes (rows). Jacobians are returned transposed and stacked:
// rows [b·k, (b+1)·k) of `jac_t` hold J_f(z_b)ᵀ (k × d), i.e. row b·k + j = ∂f/∂z_j at z_b —
// the jets' tangent-row layout, so no reshuffling is needed. Second derivatives come from
// one-tangent jets with the second-order row: v ↦ vᵀ∇²f_i v for v = e_j and e_j + e_l gives
// ∇²f_i[j, l] = ½(q(e_j + e_l) − q(e_j) − q(e_l)) by polarisation, k(k+1)/2 sweeps.
#pragma once
#include <memory>
#include <string>

#include "scorematch/core/array.hpp"
#include "scorematch/core/types.hpp"
#include "scorematch/models/mlp.hpp"

namespace scorematch::inverse {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual std::string kind() const = 0;
  virtual Index latent_dim() const = 0;  // k
  virtual Index data_dim() const = 0;    // d
  virtual Matrix decode(const Matrix& z) const = 0;
  // f(z) (n × d) and the stacked transposed Jacobians (n·k × d).
  virtual void decode_with_jacobian(const Matrix& z, Matrix& fz, Matrix& jac_t) const = 0;
  // Σ_i c_bi ∇²f_i(z_b) for each row b, stacked (n·k × k): the residual-curvature term of the
  // latent energy's Hessian. Zero for a linear decoder.
  virtual Matrix contracted_hessian(const Matrix& z, const Matrix& c) const = 0;
  // The arrays that, with kind(), reconstruct the decoder (model directory).
  virtual NamedArrays arrays() const = 0;
};

// f(z) = W z + b with W [d, k].
std::unique_ptr<Decoder> make_linear_decoder(Matrix w, Vector b);
// An MLP decoder: spec.output == MlpOutput::decoder, spec.dim = k, spec.out_dim = d.
std::unique_ptr<Decoder> make_mlp_decoder(const MlpSpec& spec, Vector theta);

}  // namespace scorematch::inverse
