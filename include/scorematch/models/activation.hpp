// Hidden-layer activations σ with their first three derivatives, elementwise over a buffer.
// The forward jet needs σ, σ', σ''; its reverse sweep (the θ-gradient of a Laplacian) needs σ'''.
// Every formula below is checked against finite differences in tests/test_activation.cpp.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "scorematch/core/error.hpp"
#include "scorematch/core/types.hpp"

namespace scorematch {

enum class Activation { softplus, tanh, silu, gelu };

inline std::vector<std::string> activation_names() {
  return {"softplus", "tanh", "silu", "gelu"};
}

inline std::string activation_name(Activation a) {
  return activation_names()[static_cast<std::size_t>(a)];
}

inline Activation parse_activation(const std::string& name) {
  const auto names = activation_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<Activation>(i);
  throw Error("unknown activation '" + name + "' (expected softplus, tanh, silu or gelu)");
}

namespace detail {
template <class T>
T sigmoid(T a) {
  // Stable for both signs: never exponentiates a large positive number.
  if (a >= T(0)) return T(1) / (T(1) + std::exp(-a));
  const T e = std::exp(a);
  return e / (T(1) + e);
}
}  // namespace detail

// s0 = σ(a), s1 = σ'(a), s2 = σ''(a), s3 = σ'''(a) for n values; any output may be null.
// Derivations (s = sigmoid(a), t = tanh(·)):
//   softplus  σ = log(1+eᵃ)   σ' = s   σ'' = s(1−s)   σ''' = s(1−s)(1−2s)
//   tanh      σ = t           σ' = 1−t²   σ'' = −2t(1−t²)   σ''' = (1−t²)(6t²−2)
//   silu      σ = a s; with u = s(1−s): σ' = s + a u, σ'' = 2u + a u(1−2s),
//             σ''' = 3u(1−2s) + a(u(1−2s)² − 2u²)
//   gelu      tanh form (Hendrycks & Gimpel 2016): σ = ½a(1+T), T = tanh(g), g = c(a + k a³),
//             c = √(2/π), k = 0.044715. With q = 1−T², g' = c(1+3ka²), g'' = 6cka, g''' = 6ck:
//             T' = q g', T'' = −2Tq g'² + q g'', T''' = −2q²g'³ + 4T²q g'³ − 6Tq g'g'' + q g''',
//             σ' = ½(1+T) + ½aT', σ'' = T' + ½aT'', σ''' = 3/2 T'' + ½aT'''.
template <class T>
void activation_derivatives(Activation act, const T* a, Index n, T* s0, T* s1, T* s2, T* s3) {
  if (act == Activation::softplus) {
    // Vectorised (Eigen's SIMD exp and log), one exponential per value: e = exp(-|a|) in (0, 1],
    // softplus = max(a, 0) + log1p(e), sigmoid = 1/(1+e) for a >= 0 and e/(1+e) otherwise.
    using A = Eigen::Array<T, Eigen::Dynamic, 1>;
    const Eigen::Map<const A> x(a, n);
    const A e = (-x.abs()).exp();
    const A inv = (T(1) + e).inverse();
    const A s = (x >= T(0)).select(inv, e * inv);
    if (s0) {
      // log1p(e) with a vectorised log: log(u)·e/(u − 1), u = 1 + e, is exact to rounding
      // (Goldberg 1991, Thm 4); u == 1 means e below half an ulp, where log1p(e) = e.
      const A u = T(1) + e;
      Eigen::Map<A>(s0, n) = x.max(T(0)) + (u == T(1)).select(e, u.log() * e / (u - T(1)));
    }
    if (s1) Eigen::Map<A>(s1, n) = s;
    if (s2 || s3) {
      const A u = s * (T(1) - s);
      if (s2) Eigen::Map<A>(s2, n) = u;
      if (s3) Eigen::Map<A>(s3, n) = u * (T(1) - T(2) * s);
    }
    return;
  }
  for (Index i = 0; i < n; ++i) {
    const T x = a[i];
    T v0 = T(0), v1 = T(0), v2 = T(0), v3 = T(0);
    switch (act) {
      case Activation::softplus: {
        const T s = detail::sigmoid(x);
        v0 = x > T(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
        v1 = s;
        v2 = s * (T(1) - s);
        v3 = v2 * (T(1) - T(2) * s);
        break;
      }
      case Activation::tanh: {
        const T t = std::tanh(x);
        const T q = T(1) - t * t;
        v0 = t;
        v1 = q;
        v2 = T(-2) * t * q;
        v3 = q * (T(6) * t * t - T(2));
        break;
      }
      case Activation::silu: {
        const T s = detail::sigmoid(x);
        const T u = s * (T(1) - s);
        const T r = T(1) - T(2) * s;
        v0 = x * s;
        v1 = s + x * u;
        v2 = T(2) * u + x * u * r;
        v3 = T(3) * u * r + x * (u * r * r - T(2) * u * u);
        break;
      }
      case Activation::gelu: {
        const T c = T(0.7978845608028654);  // √(2/π)
        const T k = T(0.044715);
        const T g = c * (x + k * x * x * x);
        const T g1 = c * (T(1) + T(3) * k * x * x), g2 = T(6) * c * k * x, g3 = T(6) * c * k;
        const T t = std::tanh(g);
        const T q = T(1) - t * t;
        const T t1 = q * g1;
        const T t2 = T(-2) * t * q * g1 * g1 + q * g2;
        const T t3 = T(-2) * q * q * g1 * g1 * g1 + T(4) * t * t * q * g1 * g1 * g1 -
                     T(6) * t * q * g1 * g2 + q * g3;
        v0 = T(0.5) * x * (T(1) + t);
        v1 = T(0.5) * (T(1) + t) + T(0.5) * x * t1;
        v2 = t1 + T(0.5) * x * t2;
        v3 = T(1.5) * t2 + T(0.5) * x * t3;
        break;
      }
    }
    if (s0) s0[i] = v0;
    if (s1) s1[i] = v1;
    if (s2) s2[i] = v2;
    if (s3) s3[i] = v3;
  }
}

}  // namespace scorematch
