// Forward jets through an MLP and their reverse sweep (design notes, "jets"; the Forward Laplacian
// of Li et al. 2023).
//
// For a batch of B inputs and K tangent directions v_k per input, the forward sweep carries, per
// layer, the value h, the tangents J_k = ∂h·v_k and the weighted second-order sum
// L = Σ_k w_k v_kᵀ(∇²h)v_k. With pre-activation a = W h + b:
//     J_a = W J,  L_a = W L,  J_h = σ'(a) ⊙ J_a,  L_h = σ'(a) ⊙ L_a + σ''(a) ⊙ Σ_k w_k J_a,k².
// The three parts are stored stacked in one matrix per layer (rows [0,B) values, [B, B+BK)
// tangents with row B + bK + k, [B+BK, 2B+BK) second-order sums), so each layer's forward is one
// GEMM with Wᵀ and its reverse is two GEMMs (∂W += adjᵀ·input, adj_input = adj·W).
// With v_k = e_k (K = d, "identity tangents") the outputs are ∇φ and Δφ of an energy, or the
// Jacobian of a score model, from one sweep; with random v_k they are the Hutchinson terms.
//
// The reverse sweep takes the adjoint of the stacked output (∂loss/∂y, ∂loss/∂J_y, ∂loss/∂L_y)
// and accumulates ∂loss/∂θ. Per hidden layer, differentiating the formulas above:
//     adj_a   = σ' adj_h + σ'' Σ_k J_a,k ⊙ adj_J,k + (σ'' L_a + σ''' Q) ⊙ adj_L,  Q = Σ_k w_k
//     J_a,k² adj_J_a,k = σ' adj_J,k + 2 w_k σ'' J_a,k ⊙ adj_L,     adj_L_a = σ' adj_L.
// Every formula is checked against finite differences in tests/test_mlp_jet.cpp.
#pragma once
#include <Eigen/Dense>
#include <memory>
#include <vector>

#include "scorematch/core/types.hpp"
#include "scorematch/models/mlp.hpp"

namespace scorematch {

template <class T>
using MatrixT = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using VectorT = Eigen::Matrix<T, Eigen::Dynamic, 1>;

// What to propagate for one batch.
template <class T>
struct JetRequest {
  const MatrixT<T>* x = nullptr;  // B × d inputs
  // Optional per-sample conditioning feature and output multiplier (see models/mlp.hpp).
  const VectorT<T>* cond_feature = nullptr;
  const VectorT<T>* output_scale = nullptr;
  Index tangents = 0;  // K
  // Tangents: either diagonal (K = d, v_k = t_k e_k, same for every sample; t = 1 when null) …
  bool diagonal_tangents = false;
  const VectorT<T>* diagonal = nullptr;
  // … or explicit, (B·K) × d with row bK + k = v_k of sample b.
  const MatrixT<T>* explicit_tangents = nullptr;
  bool second_order = false;                   // carry L
  const VectorT<T>* second_weights = nullptr;  // w_k (length K); 1 when null
  // Value-only sweeps: also keep the second and third derivatives of σ so that extend() can add
  // tangents afterwards.
  bool keep_higher = false;
  // Training-time dropout (objectives/dropout.hpp): per hidden layer l, B × layer_out(l)
  // multipliers m applied to the layer's values, h = m ⊙ σ(a) (so ∂h/∂a = m ⊙ σ'(a) and reverse()
  // and input_gradient() differentiate the masked network). Value-only sweeps without
  // keep_higher only: the tangent and second-order rows would need m as well.
  const std::vector<MatrixT<T>>* dropout = nullptr;
};

template <class T>
class MlpJet {
 public:
  explicit MlpJet(const MlpSpec& spec) : spec_(spec) {}
  const MlpSpec& spec() const { return spec_; }

  // Forward sweep with parameters θ (length spec.num_parameters()).
  void forward(const T* theta, const JetRequest<T>& request);

  // Adds the tangent (and second-order) rows of `request` to the value-only forward() just run
  // with keep_higher on the same inputs: the result equals forward(theta, request) but the value
  // rows, their GEMMs and the activation are not computed again. Typical use: ∇ₓφ from a value
  // sweep and its reverse, then the θ-gradient of uᵀ∇ₓφ for a u computed from it (DSM, ESM).
  void extend(const T* theta, const JetRequest<T>& request);

  // Stacked output (rows as above) × output width, after forward().
  const MatrixT<T>& output() const { return out_; }
  Index batch() const { return batch_; }
  Index tangents() const { return K_; }
  Index value_row(Index b) const { return b; }
  Index tangent_row(Index b, Index k) const { return batch_ + b * K_ + k; }
  Index second_row(Index b) const { return batch_ + batch_ * K_ + b; }

  // Reverse sweep for the adjoint `adj` of output() (same shape). Adds ∂loss/∂θ to grad when it
  // is non-null, and writes ∂loss/∂x (value part, B × d) to input_adjoint when non-null.
  void reverse(const T* theta, const MatrixT<T>& adj, T* grad, MatrixT<T>* input_adjoint = nullptr);

  // Energy models, after a value-only forward(): g = ∇ₓφ (B × d) by a reverse sweep with adjoint
  // 1 on every φ_b (no θ-gradient), keeping each hidden layer's adjoint ∂φ/∂h for
  // add_directional_theta_gradient().
  void input_gradient(const T* theta, MatrixT<T>& g);

  // After input_gradient() of a forward() with keep_higher: adds ∂/∂θ Σ_b u_bᵀ∇ₓφ(x_b), u held
  // fixed, to grad by reverse-mode differentiation of the gradient sweep itself ("double
  // backpropagation"). Per hidden layer, with adj_a = σ'(a) ⊙ adj_h and adj_h_{l−1} = adj_a_l W_l:
  //   ū_a_l   = ∂S/∂adj_a_l:  ū_a_0 = u W0ₓᵀ,  ū_a_{l+1} = (σ'_l ⊙ ū_a_l) W_{l+1}ᵀ
  //   ∂W_{l+1} += adj_a_{l+1}ᵀ (σ'_l ⊙ ū_a_l),  ∂W0ₓ += adj_a_0ᵀ u,  ∂w_head += Σ_b c_b σ'_L−2 ⊙ ū
  //   ā_l     = σ''_l ⊙ adj_h_l ⊙ ū_a_l   (the gradient sweep's dependence on the values),
  // then the ordinary reverse of the value sweep seeded with ā_l. Six B-row GEMMs per hidden
  // layer with the value and gradient sweeps, against seven for the tangent extension
  // (extend() + reverse()): the jet's tangent rows need their own adjoint, this does not.
  void add_directional_theta_gradient(const T* theta, const MatrixT<T>& u, T* grad);

  // Floating-point operations of the GEMMs run so far (2·M·N·K each), for benchmarks.
  double gemm_flops() const { return flops_; }

 private:
  using RowsView = Eigen::Map<MatrixT<T>>;
  using ConstRowsView = Eigen::Map<const MatrixT<T>>;
  using StridedView = Eigen::Map<const MatrixT<T>, 0, Eigen::OuterStride<>>;
  // Of W_l = [W_l,h | U_l]: the columns that multiply the layer's input h (x for l = 0) and the
  // conditioning columns U_l (spec.cond_cols(l) of them, possibly none).
  StridedView hidden_weights(const T* theta, Index l) const {
    const Index in = spec_.layer_in(l);
    return StridedView(theta + spec_.weight_offset(l), spec_.layer_out(l), in - spec_.cond_cols(l),
                       Eigen::OuterStride<>(in));
  }
  StridedView cond_weights(const T* theta, Index l) const {
    const Index in = spec_.layer_in(l), nc = spec_.cond_cols(l);
    return StridedView(theta + spec_.weight_offset(l) + in - nc, spec_.layer_out(l), nc,
                       Eigen::OuterStride<>(in));
  }
  // Row-major storage that only grows: shrinking to the B value rows of the next value sweep and
  // growing back in extend() keep the allocation, so a DSM/ESM step neither frees, reallocates
  // nor copies its layer matrices (conservativeResize copied them in every small-d DSM step).
  class RowBuffer {
   public:
    // Sets the shape; the first keep_rows rows survive (row-major: they stay in place).
    void resize(Index rows, Index cols, Index keep_rows = 0);
    RowsView view() { return RowsView(storage_.data(), rows_, cols_); }
    ConstRowsView view() const { return ConstRowsView(storage_.data(), rows_, cols_); }
    Index rows() const { return rows_; }
    Index cols() const { return cols_; }

   private:
    VectorT<T> storage_;
    Index rows_ = 0, cols_ = 0;
  };
  struct Layer {
    RowBuffer pre, post;       // stacked a and h
    MatrixT<T> s1, s2, s3, q;  // σ', σ'', σ''' at the values and Q (B × n)
    MatrixT<T> adj_h, bar_a;   // input_gradient()'s ∂φ/∂h and the seeds ā (B × n)
  };
  void set_request(const JetRequest<T>& request);
  void first_layer_tangents(const T* theta, RowsView pre);
  void scale_output_rows(Index first_row);
  void activate(Layer& layer) const;
  void apply_dropout(Index l, Layer& layer) const;
  void activate_derivative_rows(Layer& layer) const;
  void reverse_activation(const Layer& layer, MatrixT<T>& adj) const;
  Index rows() const { return batch_ * (1 + K_) + (second_ ? batch_ : 0); }
  T weight(Index k) const { return weights_ ? (*weights_)[k] : T(1); }

  MlpSpec spec_;
  Index batch_ = 0, K_ = 0;
  bool second_ = false;
  JetRequest<T> request_;
  const VectorT<T>* weights_ = nullptr;
  MatrixT<T> input_;  // stacked layer-0 input (explicit tangents only)
  // B × cond_width(): e(c) of each sample (models/mlp.hpp); column-major, so each feature's
  // column is contiguous for the per-column products (mlp_jet.cpp add_cond_*).
  Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor> cond_;
  std::vector<Layer> layers_;
  MatrixT<T> out_, adj_a_, adj_h_, adj_up_, adj_skip_;  // adj_skip_: ∂/∂h_l of a residual block
  bool gradient_sweep_ = false;  // input_gradient() ran after the last forward()
  double flops_ = 0.0;
  void count(Index m, Index n, Index k) {
    flops_ += 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  }
};

extern template class MlpJet<float>;
extern template class MlpJet<double>;

// A jet per thread (and precision), reused while the architecture stays the same: its layer
// buffers keep their size between calls of the same batch shape, so a sampler step allocates (and
// page-faults) nothing. The reference is valid until the thread's next call with another spec.
template <class T>
MlpJet<T>& thread_jet(const MlpSpec& spec) {
  thread_local std::unique_ptr<MlpJet<T>> jet;
  if (!jet || !same_architecture(jet->spec(), spec)) jet = std::make_unique<MlpJet<T>>(spec);
  return *jet;
}

}  // namespace scorematch
