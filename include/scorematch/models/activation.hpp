// Hidden-layer activations σ with their first three derivatives, elementwise over a buffer.
// The forward jet needs σ, σ', σ''; its reverse sweep (the θ-gradient of a Laplacian) needs σ'''.
// Every formula below is checked against finite differences in tests/test_activation.cpp.
#pragma once
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "scorematch/core/error.hpp"
#include "scorematch/core/types.hpp"
#include "scorematch/core/vector_math.hpp"

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
  throw SettingError(setting("activation") + ": unknown activation '" + name +
                     "' (expected softplus, tanh, silu or gelu)");
}

namespace detail {
// A factor that takes any positive normal number of type T to ≥ 1 (used as a branch-free step).
template <class T>
inline constexpr T kBig = T(1e30);
template <>
inline constexpr double kBig<double> = 1e300;
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
    // Vectorised and branch-free (Eigen 3.4 evaluates .select() one scalar at a time, so a
    // scalar log inside it would not vectorise), with FMAs only: no division (see
    // core/vector_math.hpp for exp, log1p and 1/u on these ranges):
    //   e = exp(−|a|) ∈ (0, 1],  σ(a) = 1/(1+e) for a ≥ 0 and e/(1+e) for a < 0,
    //   softplus(a) = max(a, 0) + log1p(e).
    // Blocks of 256 values on the stack (fixed maximum size): the temporaries stay in L1 and
    // nothing is allocated per call.
    constexpr Index kBlock = 256;
    using A = Eigen::Array<T, Eigen::Dynamic, 1, Eigen::ColMajor, kBlock, 1>;
    using Out = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
    for (Index i = 0; i < n; i += kBlock) {
      const Index m = std::min(kBlock, n - i);
      const Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> x(a + i, m);
      A e = -x.abs();
      vector_math::exp_nonpositive(e.data(), e.data(), m);
      const A u = T(1) + e;
      A r(m);
      vector_math::reciprocal_one_to_two<T>(u, e, r);
      if (s0) {
        A log1p_e(m);
        vector_math::log1p_unit_interval(e.data(), log1p_e.data(), m);
        Out(s0 + i, m) = x.max(T(0)) + log1p_e;
      }
      // σ = r·(e + (1 − e)·H(a)) with the step H(a) = clamp(a·big, 0, 1) in place of a branch:
      // H = 0 gives e/(1+e) exactly; H = 1 gives 1/(1+e) to an ulp; where 0 < a < 1/big, e = 1.
      const A step = (x * detail::kBig<T>).max(T(0)).min(T(1));
      const A s = r * (e + (T(1) - e) * step);
      if (s1) Out(s1 + i, m) = s;
      if (s2 || s3) {
        const A v = s * (T(1) - s);
        if (s2) Out(s2 + i, m) = v;
        if (s3) Out(s3 + i, m) = v * (T(1) - T(2) * s);
      }
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
