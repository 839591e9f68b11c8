// Helpers for MLP tests: seeded random inputs and single-point evaluation through the jets.
#pragma once
#include <cstdint>

#include "scorematch/core/random_stream.hpp"
#include "scorematch/jets/mlp_jet.hpp"

namespace scorematch::testing {

inline Matrix normal_matrix(Index rows, Index cols, std::uint64_t stream, double scale = 1.0) {
  RandomStream rng(20261123, stream);
  Matrix m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = scale * rng.normal();
  return m;
}

inline MlpSpec make_spec(Index d, MlpOutput output, Activation act,
                         std::vector<Index> hidden = {6, 5, 7},
                         Conditioning cond = Conditioning::none) {
  MlpSpec spec;
  spec.dim = d;
  spec.hidden = std::move(hidden);
  spec.output = output;
  spec.activation = act;
  spec.conditioning = cond;
  return spec;
}

// Parameters with non-zero biases so that every term of the derivatives is exercised.
inline Vector test_parameters(const MlpSpec& spec, std::uint64_t seed) {
  Vector theta = init_mlp_parameters(spec, seed);
  const Matrix noise = normal_matrix(theta.size(), 1, seed + 1000, 0.3);
  for (Index l = 0; l < spec.num_layers(); ++l)
    for (Index i = 0; i < spec.layer_out(l); ++i)
      theta[spec.bias_offset(l) + i] = noise(spec.bias_offset(l) + i, 0);
  return theta;
}

// Jets with the identity tangents (K = d): gradients / Jacobians, and the Laplacian when asked.
template <class T>
JetRequest<T> identity_request(const MatrixT<T>& x, bool second_order) {
  JetRequest<T> request;
  request.x = &x;
  request.tangents = x.cols();
  request.diagonal_tangents = true;
  request.second_order = second_order;
  return request;
}

// Network output at one point (value rows only).
inline Vector mlp_value(const MlpSpec& spec, const Vector& theta, const Vector& x) {
  MlpJet<double> jet(spec);
  const Matrix row = x.transpose();
  JetRequest<double> request;
  request.x = &row;
  jet.forward(theta.data(), request);
  return jet.output().row(0).transpose();
}

}  // namespace scorematch::testing
