#include "scorematch/jets/mlp_jet.hpp"

#include <algorithm>
#include <type_traits>

#include "scorematch/core/error.hpp"
#include "scorematch/core/flush_denormals.hpp"

namespace scorematch {

namespace {
template <class T>
using ConstMap = Eigen::Map<const MatrixT<T>>;
template <class T>
using Map = Eigen::Map<MatrixT<T>>;

// Conditioning columns one at a time: outer products into the pre-activations and matrix–vector
// products into their weights' gradient, as the single feature c always was, so a model without an
// embedding keeps its bits.
template <class Pre, class Wc, class C>
void add_cond_values(Pre&& pre, const Wc& wc, const C& cond) {
  for (Index j = 0; j < cond.cols(); ++j) pre.noalias() += cond.col(j) * wc.col(j).transpose();
}
template <class G, class Adj, class C>
void add_cond_gradient(G&& g, const Adj& adj, const C& cond) {
  for (Index j = 0; j < cond.cols(); ++j) g.col(j).noalias() += adj.transpose() * cond.col(j);
}
}  // namespace

template <class T>
void MlpJet<T>::RowBuffer::resize(Index rows, Index cols, Index keep_rows) {
  if (keep_rows > 0 && cols != cols_) throw Error("MlpJet: kept rows need the same width");
  if (rows * cols > storage_.size()) {
    VectorT<T> grown(rows * cols);
    const Index keep = std::min(keep_rows, rows_) * cols;
    if (keep > 0) grown.head(keep) = storage_.head(keep);
    storage_.swap(grown);
  }
  rows_ = rows;
  cols_ = cols;
}

template <class T>
void MlpJet<T>::set_request(const JetRequest<T>& request) {
  const Index d = spec_.dim;
  request_ = request;
  gradient_sweep_ = false;  // input_gradient() belongs to the previous sweep
  batch_ = request.x->rows();
  K_ = request.tangents;
  second_ = request.second_order;
  weights_ = request.second_weights;
  if (request.x->cols() != d) throw Error("MLP input has the wrong number of columns");
  if (K_ > 0 && request.diagonal_tangents && K_ != d) throw Error("diagonal tangents need K = d");
  if (K_ > 0 && !request.diagonal_tangents &&
      (!request.explicit_tangents || request.explicit_tangents->rows() != batch_ * K_))
    throw Error("explicit tangents must have B·K rows");
  if ((spec_.conditioning != Conditioning::none) != (request.cond_feature != nullptr))
    throw Error(
        "conditioning feature given to an unconditioned MLP or missing for a conditioned one");
  if (request.dropout) {
    if (K_ != 0 || second_ || request.keep_higher)
      throw Error("MlpJet: dropout needs a value-only sweep without keep_higher");
    const auto& masks = *request.dropout;
    if (static_cast<Index>(masks.size()) != spec_.num_layers() - 1)
      throw Error("MlpJet: one dropout mask per hidden layer");
    for (Index l = 0; l + 1 < spec_.num_layers(); ++l) {
      const MatrixT<T>& m = masks[static_cast<std::size_t>(l)];
      if (m.rows() != batch_ || m.cols() != spec_.layer_out(l))
        throw Error("MlpJet: a dropout mask has the wrong shape");
    }
  }
  cond_.resize(request.cond_feature ? batch_ : 0, spec_.cond_width());
  VectorT<T> e(spec_.cond_width());
  for (Index b = 0; b < cond_.rows(); ++b) {
    embed_conditioning<T>(spec_, (*request.cond_feature)[b], e.data());
    cond_.row(b) = e.transpose();
  }
}

// Layer-0 pre-activation rows of the tangents (v_k, zero in the conditioning slot) and the zero
// second-order part (the input is linear in itself).
template <class T>
void MlpJet<T>::first_layer_tangents(const T* theta, RowsView pre) {
  const Index B = batch_, d = spec_.dim;
  const ConstMap<T> W(theta + spec_.weight_offset(0), spec_.layer_out(0), spec_.layer_in(0));
  const auto Wx = W.leftCols(d);
  if (K_ > 0) {
    if (request_.diagonal_tangents) {
      for (Index b = 0; b < B; ++b)
        for (Index k = 0; k < K_; ++k) {
          const T t = request_.diagonal ? (*request_.diagonal)[k] : T(1);
          pre.row(tangent_row(b, k)) = t * Wx.col(k).transpose();
        }
    } else {
      pre.middleRows(B, B * K_).noalias() = *request_.explicit_tangents * Wx.transpose();
      count(B * K_, W.rows(), d);
    }
  }
  if (second_) pre.bottomRows(B).setZero();
}

// The per-sample output multiplier scales y, J_y and L_y alike; rows before first_row are done.
template <class T>
void MlpJet<T>::scale_output_rows(Index first_row) {
  if (!request_.output_scale) return;
  const VectorT<T>& c = *request_.output_scale;
  for (Index b = 0; b < batch_; ++b) {
    if (first_row == 0) out_.row(b) *= c[b];
    for (Index k = 0; k < K_; ++k) out_.row(tangent_row(b, k)) *= c[b];
    if (second_) out_.row(second_row(b)) *= c[b];
  }
}

template <class T>
void MlpJet<T>::extend(const T* theta, const JetRequest<T>& request) {
  const FlushDenormals flush(std::is_same_v<T, float>);  // see core/flush_denormals.hpp
  if (K_ != 0 || second_ || !request_.keep_higher || request.x != request_.x ||
      request.cond_feature != request_.cond_feature ||
      request.output_scale != request_.output_scale)
    throw Error("MlpJet::extend needs a value-only forward() of the same inputs with keep_higher");
  set_request(request);
  request_.keep_higher = true;
  const Index B = batch_, R = rows(), L = spec_.num_layers();
  // Row-major storage: growing the row count keeps the value rows [0, B) in place.
  for (Index l = 0; l < L - 1; ++l) {
    Layer& layer = layers_[static_cast<std::size_t>(l)];
    const Index n = spec_.layer_out(l);
    layer.pre.resize(R, n, B);
    layer.post.resize(R, n, B);
    if (l == 0) {
      first_layer_tangents(theta, layer.pre.view());
    } else {
      const auto W = hidden_weights(theta, l);
      layer.pre.view().bottomRows(R - B).noalias() =
          layers_[static_cast<std::size_t>(l - 1)].post.view().bottomRows(R - B) * W.transpose();
      count(R - B, W.rows(), W.cols());
    }
    activate_derivative_rows(layer);
    if (spec_.has_skip(l))  // residual block: the rows below B gain the input's rows
      layer.post.view().bottomRows(R - B) +=
          layers_[static_cast<std::size_t>(l - 1)].post.view().bottomRows(R - B);
  }
  const ConstMap<T> W(theta + spec_.weight_offset(L - 1), spec_.layer_out(L - 1),
                      spec_.layer_in(L - 1));
  out_.conservativeResize(R, spec_.output_width());
  out_.bottomRows(R - B).noalias() = layers_.back().post.view().bottomRows(R - B) * W.transpose();
  count(R - B, W.rows(), W.cols());
  scale_output_rows(B);
}

template <class T>
void MlpJet<T>::forward(const T* theta, const JetRequest<T>& request) {
  const FlushDenormals flush(std::is_same_v<T, float>);  // see core/flush_denormals.hpp
  const Index d = spec_.dim;
  set_request(request);

  const Index B = batch_, R = rows(), L = spec_.num_layers();
  layers_.resize(static_cast<std::size_t>(L - 1));

  // Layer 0: the input is (x, c) with tangents v_k (zero in the c slot) and no second-order part.
  {
    const ConstMap<T> W(theta + spec_.weight_offset(0), spec_.layer_out(0), spec_.layer_in(0));
    const auto Wx = W.leftCols(d);
    const Eigen::Map<const VectorT<T>> bias(theta + spec_.bias_offset(0), spec_.layer_out(0));
    Layer& layer = layers_[0];
    layer.pre.resize(R, spec_.layer_out(0));
    auto pre = layer.pre.view();
    pre.topRows(B).noalias() = *request.x * Wx.transpose();
    count(B, W.rows(), W.cols());
    if (cond_.rows() > 0) add_cond_values(pre.topRows(B), W.rightCols(cond_.cols()), cond_);
    pre.topRows(B).rowwise() += bias.transpose();
    first_layer_tangents(theta, pre);
    activate(layer);
    apply_dropout(0, layer);
  }
  for (Index l = 1; l < L - 1; ++l) {
    const auto W = hidden_weights(theta, l);
    const Eigen::Map<const VectorT<T>> bias(theta + spec_.bias_offset(l), spec_.layer_out(l));
    Layer& layer = layers_[static_cast<std::size_t>(l)];
    layer.pre.resize(R, spec_.layer_out(l));
    // a = b + h Wᵀ on the value rows, h Wᵀ on the others: the GEMM accumulates into the bias
    // rows (Eigen's "=" would clear the whole block first and add the bias in a second pass).
    auto pre = layer.pre.view();
    pre.topRows(B).rowwise() = bias.transpose();
    pre.bottomRows(R - B).setZero();
    pre.noalias() += layers_[static_cast<std::size_t>(l - 1)].post.view() * W.transpose();
    count(R, W.rows(), W.cols());
    if (spec_.cond_cols(l) > 0) add_cond_values(pre.topRows(B), cond_weights(theta, l), cond_);
    activate(layer);
    apply_dropout(l, layer);
    // Residual block (models/mlp.hpp): h_l = h_{l−1} + m ⊙ σ(a_l) on every row (the skip is linear,
    // so tangents and second-order sums add too).
    if (spec_.has_skip(l))
      layer.post.view() += layers_[static_cast<std::size_t>(l - 1)].post.view();
  }
  // Linear head, then the per-sample output multiplier.
  const ConstMap<T> W(theta + spec_.weight_offset(L - 1), spec_.layer_out(L - 1),
                      spec_.layer_in(L - 1));
  const Eigen::Map<const VectorT<T>> bias(theta + spec_.bias_offset(L - 1), spec_.layer_out(L - 1));
  out_.resize(R, spec_.output_width());
  out_.noalias() = layers_.back().post.view() * W.transpose();
  count(R, W.rows(), W.cols());
  out_.topRows(B).rowwise() += bias.transpose();
  scale_output_rows(0);
}

template <class T>
void MlpJet<T>::activate(Layer& layer) const {
  const Index B = batch_, n = layer.pre.cols();
  layer.post.resize(layer.pre.rows(), n);
  // The second and third derivatives enter only through tangent and second-order rows (and their
  // reverse sweep); a plain value/gradient sweep skips them unless extend() is to follow.
  const bool higher = K_ > 0 || second_ || request_.keep_higher;
  layer.s1.resize(B, n);
  layer.s2.resize(higher ? B : 0, n);
  layer.s3.resize(higher ? B : 0, n);
  // Values: contiguous rows [0, B).
  activation_derivatives(spec_.activation, layer.pre.view().data(), B * n, layer.post.view().data(),
                         layer.s1.data(), higher ? layer.s2.data() : nullptr,
                         higher ? layer.s3.data() : nullptr);
  activate_derivative_rows(layer);
}

// h = m ⊙ σ(a) and ∂h/∂a = m ⊙ σ'(a) on the value rows (the only rows when dropout is on).
template <class T>
void MlpJet<T>::apply_dropout(Index l, Layer& layer) const {
  if (!request_.dropout) return;
  const MatrixT<T>& m = (*request_.dropout)[static_cast<std::size_t>(l)];
  layer.post.view().topRows(batch_).array() *= m.array();
  layer.s1.array() *= m.array();
}

template <class T>
void MlpJet<T>::activate_derivative_rows(Layer& layer) const {
  const Index B = batch_, n = layer.pre.cols();
  const auto pre = layer.pre.view();
  auto post = layer.post.view();
  if (second_) layer.q.setZero(B, n);
  for (Index b = 0; b < B; ++b) {
    const auto s1 = layer.s1.row(b).array();
    for (Index k = 0; k < K_; ++k) {
      const Index r = tangent_row(b, k);
      post.row(r).array() = s1 * pre.row(r).array();
      if (second_) layer.q.row(b).array() += weight(k) * pre.row(r).array().square();
    }
    if (second_) {
      const Index r = second_row(b);
      post.row(r).array() =
          s1 * pre.row(r).array() + layer.s2.row(b).array() * layer.q.row(b).array();
    }
  }
}

template <class T>
void MlpJet<T>::reverse_activation(const Layer& layer, MatrixT<T>& adj) const {
  // In place: adj holds ∂loss/∂(h, J_h, L_h) on entry and ∂loss/∂(a, J_a, L_a) on exit.
  const Index B = batch_;
  if (K_ == 0 && !second_) {  // values only: one elementwise product
    adj.topRows(B).array() *= layer.s1.array();
    return;
  }
  const auto pre = layer.pre.view();
  for (Index b = 0; b < B; ++b) {
    const auto s1 = layer.s1.row(b).array();
    const auto s2 = layer.s2.row(b).array();
    auto value = adj.row(b).array();
    value *= s1;
    for (Index k = 0; k < K_; ++k) {
      const Index r = tangent_row(b, k);
      value += s2 * pre.row(r).array() * adj.row(r).array();
    }
    if (second_) {
      const Index rs = second_row(b);
      const auto adj_second = adj.row(rs).array();
      value += (s2 * pre.row(rs).array() + layer.s3.row(b).array() * layer.q.row(b).array()) *
               adj_second;
      for (Index k = 0; k < K_; ++k) {
        const Index r = tangent_row(b, k);
        adj.row(r).array() =
            s1 * adj.row(r).array() + (T(2) * weight(k)) * s2 * pre.row(r).array() * adj_second;
      }
      adj.row(rs).array() *= s1;
    } else {
      for (Index k = 0; k < K_; ++k) adj.row(tangent_row(b, k)).array() *= s1;
    }
  }
}

template <class T>
void MlpJet<T>::reverse(const T* theta, const MatrixT<T>& adj, T* grad, MatrixT<T>* input_adjoint) {
  const FlushDenormals flush(std::is_same_v<T, float>);  // see core/flush_denormals.hpp
  const Index B = batch_, L = spec_.num_layers(), d = spec_.dim;
  if (adj.rows() != rows() || adj.cols() != spec_.output_width())
    throw Error("jet adjoint has the wrong shape");

  // Head: G = adj scaled per sample; ∂W_L += Gᵀ h, ∂b_L += Σ_b G_value, adj_h = G W_L.
  adj_a_ = adj;
  if (request_.output_scale) {
    const VectorT<T>& c = *request_.output_scale;
    for (Index b = 0; b < B; ++b) {
      adj_a_.row(b) *= c[b];
      for (Index k = 0; k < K_; ++k) adj_a_.row(tangent_row(b, k)) *= c[b];
      if (second_) adj_a_.row(second_row(b)) *= c[b];
    }
  }
  for (Index l = L - 1; l >= 0; --l) {
    const ConstMap<T> W(theta + spec_.weight_offset(l), spec_.layer_out(l), spec_.layer_in(l));
    // A residual block's input also receives ∂loss/∂h_l through the skip (added below).
    const bool skip = spec_.has_skip(l);
    if (skip) adj_skip_ = adj_a_;
    if (l < L - 1) reverse_activation(layers_[static_cast<std::size_t>(l)], adj_a_);
    if (l > 0) {
      const auto input = layers_[static_cast<std::size_t>(l - 1)].post.view();
      const Index nc = spec_.cond_cols(l), nh = W.cols() - nc;
      if (grad) {
        Map<T> gW(grad + spec_.weight_offset(l), W.rows(), W.cols());
        gW.leftCols(nh).noalias() += adj_a_.transpose() * input;
        count(rows(), W.rows(), nh);
        if (nc > 0) add_cond_gradient(gW.rightCols(nc), adj_a_.topRows(B), cond_);
        Eigen::Map<VectorT<T>>(grad + spec_.bias_offset(l), W.rows()) +=
            adj_a_.topRows(B).colwise().sum().transpose();
      }
      adj_h_.noalias() = adj_a_ * W.leftCols(nh);
      count(rows(), W.rows(), W.cols());
      if (skip) adj_h_ += adj_skip_;
      adj_a_.swap(adj_h_);
      continue;
    }
    // Layer 0: input (x, c) with tangents v_k and a zero second-order part.
    if (grad) {
      Map<T> gW(grad + spec_.weight_offset(0), W.rows(), W.cols());
      auto gWx = gW.leftCols(d);
      gWx.noalias() += adj_a_.topRows(B).transpose() * *request_.x;
      count(B, W.rows(), d);
      if (cond_.rows() > 0) add_cond_gradient(gW.rightCols(cond_.cols()), adj_a_.topRows(B), cond_);
      Eigen::Map<VectorT<T>>(grad + spec_.bias_offset(0), W.rows()) +=
          adj_a_.topRows(B).colwise().sum().transpose();
      if (K_ > 0 && request_.diagonal_tangents) {
        // v_k = t_k e_k for every sample: ∂W0[:, k] += t_k Σ_b adj_J,k(b).
        MatrixT<T> sum = MatrixT<T>::Zero(K_, W.rows());
        for (Index b = 0; b < B; ++b) sum += adj_a_.middleRows(tangent_row(b, 0), K_);
        for (Index k = 0; k < K_; ++k)
          gWx.col(k) +=
              (request_.diagonal ? (*request_.diagonal)[k] : T(1)) * sum.row(k).transpose();
      } else if (K_ > 0) {
        gWx.noalias() += adj_a_.middleRows(B, B * K_).transpose() * *request_.explicit_tangents;
        count(B * K_, W.rows(), d);
      }
    }
    if (input_adjoint) {
      input_adjoint->noalias() = adj_a_.topRows(B) * W.leftCols(d);
      count(B, W.rows(), d);
    }
  }
}

template <class T>
void MlpJet<T>::input_gradient(const T* theta, MatrixT<T>& g) {
  const FlushDenormals flush(std::is_same_v<T, float>);  // see core/flush_denormals.hpp
  const Index B = batch_, L = spec_.num_layers(), d = spec_.dim;
  if (K_ != 0 || second_ || spec_.output_width() != 1 || L < 2 || spec_.residual)
    throw Error(
        "MlpJet::input_gradient needs a value-only forward() of an energy MLP without residual "
        "blocks");
  // Head: ∂φ_b/∂h_{L−2} = c_b w_head (c_b the output multiplier, 1 without one).
  const ConstMap<T> head(theta + spec_.weight_offset(L - 1), 1, spec_.layer_in(L - 1));
  MatrixT<T>& top = layers_[static_cast<std::size_t>(L - 2)].adj_h;
  if (request_.output_scale) {
    top.noalias() = *request_.output_scale * head;
  } else {
    top.resize(B, head.cols());
    top.rowwise() = head.row(0);
  }
  for (Index l = L - 2; l >= 1; --l) {
    const Layer& layer = layers_[static_cast<std::size_t>(l)];
    const auto W = hidden_weights(theta, l);
    adj_a_ = layer.s1.cwiseProduct(layer.adj_h);
    layers_[static_cast<std::size_t>(l - 1)].adj_h.noalias() = adj_a_ * W;
    count(B, W.rows(), W.cols());
  }
  const ConstMap<T> W0(theta + spec_.weight_offset(0), spec_.layer_out(0), spec_.layer_in(0));
  adj_a_ = layers_[0].s1.cwiseProduct(layers_[0].adj_h);
  g.noalias() = adj_a_ * W0.leftCols(d);
  count(B, W0.rows(), d);
  gradient_sweep_ = true;
}

template <class T>
void MlpJet<T>::add_directional_theta_gradient(const T* theta, const MatrixT<T>& u, T* grad) {
  const FlushDenormals flush(std::is_same_v<T, float>);  // see core/flush_denormals.hpp
  const Index B = batch_, L = spec_.num_layers(), d = spec_.dim;
  if (!gradient_sweep_ || !request_.keep_higher || u.rows() != B || u.cols() != d)
    throw Error(
        "MlpJet::add_directional_theta_gradient needs input_gradient() after a value-only "
        "forward() with keep_higher, and u of shape B × d");
  // W_l,h (the columns that multiply h_{l−1}) and its gradient block; U_l's block separately.
  const auto weights = [&](Index l) { return hidden_weights(theta, l); };
  const auto full_grad = [&](Index l) {
    return Map<T>(grad + spec_.weight_offset(l), spec_.layer_out(l), spec_.layer_in(l));
  };
  const auto weight_grad = [&](Index l) {
    return full_grad(l).leftCols(spec_.layer_in(l) - spec_.cond_cols(l));
  };
  const auto bias_grad = [&](Index l) {
    return Eigen::Map<VectorT<T>>(grad + spec_.bias_offset(l), spec_.layer_out(l));
  };

  // Up the layers: reverse of the gradient sweep. adj_a_ holds adj_a_l, adj_h_ holds ū_a_l.
  adj_a_ = layers_[0].s1.cwiseProduct(layers_[0].adj_h);
  weight_grad(0).leftCols(d).noalias() += adj_a_.transpose() * u;
  count(B, spec_.layer_out(0), d);
  adj_h_.noalias() = u * weights(0).leftCols(d).transpose();
  count(B, spec_.layer_out(0), d);
  for (Index l = 0; l < L - 1; ++l) {
    Layer& layer = layers_[static_cast<std::size_t>(l)];
    layer.bar_a = layer.s2.cwiseProduct(layer.adj_h).cwiseProduct(adj_h_);
    adj_h_.array() *= layer.s1.array();  // now ∂S/∂adj_h_l
    if (l + 1 == L - 1) {                // head: adj_h_{L−2} = c_b w_head
      auto g_head = full_grad(L - 1);
      if (request_.output_scale)
        g_head.noalias() += request_.output_scale->transpose() * adj_h_;
      else
        g_head += adj_h_.colwise().sum();
      break;
    }
    const Layer& next = layers_[static_cast<std::size_t>(l + 1)];
    adj_a_ = next.s1.cwiseProduct(next.adj_h);
    weight_grad(l + 1).noalias() += adj_a_.transpose() * adj_h_;
    count(B, spec_.layer_out(l + 1), spec_.layer_in(l + 1));
    adj_up_.noalias() = adj_h_ * weights(l + 1).transpose();
    count(B, spec_.layer_out(l + 1), spec_.layer_in(l + 1));
    adj_h_.swap(adj_up_);
  }

  // Down the layers: reverse of the value sweep seeded with ā_l.
  for (Index l = L - 2; l >= 0; --l) {
    const MatrixT<T>& bar = layers_[static_cast<std::size_t>(l)].bar_a;
    bias_grad(l) += bar.colwise().sum().transpose();
    if (spec_.cond_cols(l) > 0)
      add_cond_gradient(full_grad(l).rightCols(spec_.cond_cols(l)), bar, cond_);
    if (l == 0) {
      weight_grad(0).leftCols(d).noalias() += bar.transpose() * *request_.x;
      count(B, spec_.layer_out(0), d);
      break;
    }
    Layer& below = layers_[static_cast<std::size_t>(l - 1)];
    weight_grad(l).noalias() += bar.transpose() * below.post.view();
    count(B, spec_.layer_out(l), spec_.layer_in(l));
    adj_a_.noalias() = bar * weights(l);
    count(B, spec_.layer_out(l), spec_.layer_in(l));
    below.bar_a.array() += below.s1.array() * adj_a_.array();
  }
}

template class MlpJet<float>;
template class MlpJet<double>;

}  // namespace scorematch
