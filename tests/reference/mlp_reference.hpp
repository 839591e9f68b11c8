// FROZEN REFERENCE — DO NOT OPTIMISE. Test-only, header-only.
//
// A plain, per-sample "reference twin" of the MLP jets (include/scorematch/jets/mlp_jet.hpp) and of
// the per-sample losses behind batch_sums (include/scorematch/objectives/). It exists so that the
// fast kernels (stacked GEMMs, vectorised activations, reverse sweeps, double backpropagation) can
// be compared with something written the obvious way. Keep it obvious: plain std::vector loops in
// the order of the formulas, no Eigen products, no blocking, no fused tricks, no shared code with
// the fast path beyond the MlpSpec description (and RandomStream for the objectives' draws). If a
// test comparing the two fails, fix the fast path (or prove this file wrong), never "speed this
// up". Templated on the scalar T (float, double, long double); the tests evaluate it in long
// double.
//
// Layout of θ (models/mlp.hpp): layers l = 0 … L−1 (L = hidden.size() + 1), each stored as W_l
// (out × in, row-major: W_l[i][j] at θ[w_l + i·in + j]) followed by b_l (out values), in that
// order. Layer 0's input is x (d values), followed by the conditioning feature c when the spec is
// conditioned (sigma or time); hidden layers apply the activation, the last layer is linear; its
// width is 1 (energy φ), d (score s) or out_dim (decoder). The output is multiplied by the
// per-sample output scale (1/σ for noise-conditioned models; 1 otherwise). With an embedding of
// K frequencies the conditioning is instead the 1 + 2K features
//   e(c) = (c, sin(ω_0 c), …, sin(ω_{K−1} c), cos(ω_0 c), …, cos(ω_{K−1} c)),
//   ω_k = 0.25 · 64^{k/(K−1)} (ω_0 = 0.25 when K = 1),
// appended to the input of every hidden layer (layer 0 and each hidden layer after it, not the
// last layer), all constant in x. With residual blocks every hidden layer after the first adds its
// input (without the conditioning features) to its output: h' = h + σ(a), J_h' = J + J_σ, H_h' =
// H + H_σ (dropout masks multiply σ(a) only).
//
// Forward propagation of value h, Jacobian J = ∂h/∂x (n × d) and Hessians H_i = ∂²h_i/∂x² (d × d)
// of every unit i; the input is h = (x, c), J = [I; 0], H = 0 (c does not depend on x):
//     a = W h + b;      J_a = W J;      H_a,i = Σ_j W_ij H_j
//     h' = σ(a);        J_h',i = σ'(a_i) J_a,i;
//     H_h',i = σ'(a_i) H_a,i + σ''(a_i) J_a,i J_a,iᵀ         (J_a,i = row i of J_a)
// and for the output y = s·a_L (s the output scale): J_y = s J_a, H_y,i = s H_a,i.
// From these, per sample: value y, input gradient ∇φ = J_y row 0 (energy) or Jacobian (score),
// Laplacian Δφ = tr H_y,0, Jacobian trace tr J_y (score: the divergence), tangents J_y v, and
// second-order sums Σ_k w_k v_kᵀ H_y,i v_k.
//
// Activations (the definitions of models/activation.hpp, written out again from scratch; only
// σ, σ', σ'' are needed by a forward reference), s = 1/(1 + e^{−a}):
//   softplus  σ = log(1 + eᵃ) = max(a, 0) + log1p(e^{−|a|}),  σ' = s,  σ'' = s(1 − s)
//   tanh      σ = tanh a,  σ' = 1 − σ²,  σ'' = −2σ(1 − σ²)
//   silu      σ = a s,  σ' = s + a s(1 − s),  σ'' = s(1 − s)(2 + a(1 − 2s))
//   gelu      tanh form: σ = ½a(1 + T), T = tanh g, g = c(a + k a³), c = √(2/π), k = 0.044715;
//             with q = 1 − T², g' = c(1 + 3k a²), g'' = 6 c k a:
//             σ' = ½(1 + T) + ½ a q g',  σ'' = q g' + ½ a (q g'' − 2 T q g'²)
//
// Per-sample losses (objectives/objective.hpp and each src/objectives/*.cpp header comment), for
// energies s = −∇φ:
//   esm  ½‖s − s*‖²                          energy: ½‖∇φ + s*‖²
//   ism  tr ∂s/∂x + ½‖s‖²                    energy: ½‖∇φ‖² − Δφ
//   ssm  plain (1/m) Σ_k [v_kᵀ J_s v_k + ½(v_kᵀ s)²], variance-reduced ½‖s‖² + (1/m) Σ_k v_kᵀ J_s
//   v_k;
//        energy: J_s = −∇²φ
//   dsm  ½‖σ s(x̃) + ε‖², x̃ = α x + σ ε        energy: ½‖σ ∇φ(x̃) − ε‖²
// Draws, all from RandomStream(seed, stream, step) called in order (scalar generator, not the
// bulk fills the objectives use): ssm's probe k, coordinate i is draw k·d + i (rademacher() or
// normal()); dsm's ε is d calls of normal(), then (ladder / vesde / vpsde) one uniform(): vesde
// σ = exp(log σ_min + u (log σ_max − log σ_min)) (sigma_density lognormal: two uniform() u1, u2,
// σ = exp(P_mean + P_std √(−2 log u1) cos(2π u2))), feature log σ, scale 1/σ; ladder level
// i = min(L − 1, ⌊u L⌋), σ_i = σ_max (σ_min/σ_max)^{i/(L−1)}, α = 1, feature log σ_i, scale 1/σ_i;
// vpsde t = t_eps + (1 − t_eps) u, I(t) = β_min t + ½t²(β_max − β_min), α = e^{−I/2},
// σ = √(1 − e^{−I}), feature t, scale 1/σ; single σ: α = 1, feature log σ and scale 1/σ when the
// model is σ-conditioned. With edm preconditioning the loss is the paper's λ(σ)‖D − x‖²
// written from its denoiser (not from the production's score form). Dropout (training steps of
// score models) multiplies each hidden unit's value by its mask, drawn as described at the dsm
// branch below.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

#include "scorematch/core/random_stream.hpp"
#include "scorematch/models/mlp.hpp"
#include "scorematch/objectives/objective.hpp"  // ObjectiveSettings only

namespace scorematch::reference {

// σ(a), σ'(a), σ''(a) of one scalar.
template <class T>
struct ActivationValues {
  T s0, s1, s2;
};

template <class T>
ActivationValues<T> activation(Activation act, T a) {
  const T one = T(1), two = T(2), half = T(0.5L);
  switch (act) {
    case Activation::softplus: {
      const T e = std::exp(-std::abs(a));
      const T s = a >= T(0) ? one / (one + e) : e / (one + e);
      return {std::max(a, T(0)) + std::log1p(e), s, s * (one - s)};
    }
    case Activation::tanh: {
      const T t = std::tanh(a);
      return {t, one - t * t, -two * t * (one - t * t)};
    }
    case Activation::silu: {
      const T s = a >= T(0) ? one / (one + std::exp(-a)) : std::exp(a) / (one + std::exp(a));
      return {a * s, s + a * s * (one - s), s * (one - s) * (two + a * (one - two * s))};
    }
    case Activation::gelu: {
      const T c = std::sqrt(two / std::numbers::pi_v<T>);
      const T k = T(0.044715L);
      const T g = c * (a + k * a * a * a);
      const T g1 = c * (one + T(3) * k * a * a);
      const T g2 = T(6) * c * k * a;
      const T t = std::tanh(g);
      const T q = one - t * t;
      return {half * a * (one + t), half * (one + t) + half * a * q * g1,
              q * g1 + half * a * (q * g2 - two * t * q * g1 * g1)};
    }
  }
  throw std::logic_error("reference: unknown activation");
}

// One layer of the flat θ: out × in weights at θ[w], out biases at θ[b].
struct LayerShape {
  std::size_t in = 0, out = 0, w = 0, b = 0;
  bool hidden = false;
};

// The layer shapes and offsets from the spec's sizes alone (not MlpSpec::weight_offset).
inline std::size_t feature_count(const MlpSpec& spec) {
  if (spec.conditioning == Conditioning::none) return 0;
  return spec.embedding == 0 ? 1u : 1u + 2u * static_cast<std::size_t>(spec.embedding);
}

inline std::vector<LayerShape> layer_shapes(const MlpSpec& spec) {
  std::vector<std::size_t> widths;
  widths.push_back(static_cast<std::size_t>(spec.dim));
  for (const Index w : spec.hidden) widths.push_back(static_cast<std::size_t>(w));
  widths.push_back(spec.output == MlpOutput::energy  ? 1u
                   : spec.output == MlpOutput::score ? static_cast<std::size_t>(spec.dim)
                                                     : static_cast<std::size_t>(spec.out_dim));
  std::vector<LayerShape> layers;
  std::size_t offset = 0;
  for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
    LayerShape s;
    s.hidden = l + 2 < widths.size();
    s.in = widths[l];
    if (s.hidden && (l == 0 || spec.embedding > 0)) s.in += feature_count(spec);
    s.out = widths[l + 1];
    s.w = offset;
    s.b = offset + s.out * s.in;
    offset = s.b + s.out;
    layers.push_back(s);
  }
  return layers;
}

inline std::size_t parameter_count(const MlpSpec& spec) {
  const LayerShape last = layer_shapes(spec).back();
  return last.b + last.out;
}

// Value, Jacobian and Hessians of the network output at one input.
template <class T>
struct Point {
  std::size_t out = 0, d = 0;
  std::vector<T> y;     // out
  std::vector<T> jac;   // out × d:      jac[i·d + k] = ∂y_i/∂x_k
  std::vector<T> hess;  // out × d × d:  hess[(i·d + k)·d + m] = ∂²y_i/∂x_k∂x_m
  T value(std::size_t i) const { return y[i]; }
  T J(std::size_t i, std::size_t k) const { return jac[i * d + k]; }
  T H(std::size_t i, std::size_t k, std::size_t m) const { return hess[(i * d + k) * d + m]; }
};

// order 0: value; 1: and the Jacobian; 2: and the Hessians. `feature` is used only by a
// conditioned spec; `scale` multiplies the output (pass 1 for none). `masks` (dropout): when
// given, hidden unit i of hidden layer l is h_i = masks[l][i]·σ(a_i) (its J and H rows too).
template <class T>
Point<T> evaluate(const MlpSpec& spec, const std::vector<T>& theta, const T* x, T feature, T scale,
                  int order, const std::vector<std::vector<T>>* masks = nullptr) {
  const std::vector<LayerShape> layers = layer_shapes(spec);
  if (theta.size() != layers.back().b + layers.back().out)
    throw std::invalid_argument("reference: θ has the wrong length");
  const std::size_t d = static_cast<std::size_t>(spec.dim);
  const std::size_t d2 = d * d;
  // The conditioning features: c alone, or e(c).
  std::vector<T> features;
  if (spec.conditioning != Conditioning::none) {
    features.push_back(feature);
    const std::size_t K = static_cast<std::size_t>(spec.embedding);
    std::vector<T> sines, cosines;
    for (std::size_t k = 0; k < K; ++k) {
      const long double omega =
          K == 1 ? 0.25L : 0.25L * std::pow(64.0L, static_cast<long double>(k) / (K - 1));
      sines.push_back(static_cast<T>(std::sin(omega * static_cast<long double>(feature))));
      cosines.push_back(static_cast<T>(std::cos(omega * static_cast<long double>(feature))));
    }
    features.insert(features.end(), sines.begin(), sines.end());
    features.insert(features.end(), cosines.begin(), cosines.end());
  }
  // Layer input: value h (n), Jacobian J (n × d), Hessians H (n × d × d).
  std::size_t n = d;
  std::vector<T> h(n, T(0)), J(n * d, T(0)), H(n * d2, T(0));
  for (std::size_t k = 0; k < d; ++k) {
    h[k] = x[k];
    J[k * d + k] = T(1);
  }
  std::size_t hidden_index = 0;
  for (const LayerShape& layer : layers) {
    const std::size_t m = layer.out;
    // The block's input, for a residual block's skip.
    const std::vector<T> h_in(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(n));
    const std::vector<T> J_in(J.begin(), J.begin() + static_cast<std::ptrdiff_t>(n * d));
    const std::vector<T> H_in(H.begin(), H.begin() + static_cast<std::ptrdiff_t>(n * d2));
    // Conditioning slots after the layer's input: constant in x (zero J and H).
    if (layer.in > n) {
      for (std::size_t j = 0; j < layer.in - n; ++j) h.push_back(features[j]);
      J.resize(layer.in * d, T(0));
      H.resize(layer.in * d2, T(0));
      n = layer.in;
    }
    std::vector<T> a(m, T(0)), Ja(m * d, T(0)), Ha(m * d2, T(0));
    for (std::size_t i = 0; i < m; ++i) {
      T sum = theta[layer.b + i];
      for (std::size_t j = 0; j < n; ++j) sum += theta[layer.w + i * n + j] * h[j];
      a[i] = sum;
      if (order >= 1)
        for (std::size_t k = 0; k < d; ++k) {
          T t = T(0);
          for (std::size_t j = 0; j < n; ++j) t += theta[layer.w + i * n + j] * J[j * d + k];
          Ja[i * d + k] = t;
        }
      if (order >= 2)
        for (std::size_t km = 0; km < d2; ++km) {
          T t = T(0);
          for (std::size_t j = 0; j < n; ++j) t += theta[layer.w + i * n + j] * H[j * d2 + km];
          Ha[i * d2 + km] = t;
        }
    }
    if (!layer.hidden) {
      Point<T> p;
      p.out = m;
      p.d = d;
      p.y = a;
      for (T& v : p.y) v *= scale;
      if (order >= 1) {
        p.jac = Ja;
        for (T& v : p.jac) v *= scale;
      }
      if (order >= 2) {
        p.hess = Ha;
        for (T& v : p.hess) v *= scale;
      }
      return p;
    }
    h.assign(m, T(0));
    J.assign(m * d, T(0));
    H.assign(m * d2, T(0));
    for (std::size_t i = 0; i < m; ++i) {
      const ActivationValues<T> s = activation(spec.activation, a[i]);
      h[i] = s.s0;
      if (order >= 1)
        for (std::size_t k = 0; k < d; ++k) J[i * d + k] = s.s1 * Ja[i * d + k];
      if (order >= 2)
        for (std::size_t k = 0; k < d; ++k)
          for (std::size_t l = 0; l < d; ++l)
            H[i * d2 + k * d + l] =
                s.s1 * Ha[i * d2 + k * d + l] + s.s2 * Ja[i * d + k] * Ja[i * d + l];
    }
    if (masks) {
      const std::vector<T>& mask = masks->at(hidden_index);
      for (std::size_t i = 0; i < m; ++i) {
        h[i] *= mask.at(i);
        for (std::size_t k = 0; k < d; ++k) J[i * d + k] *= mask[i];
        for (std::size_t km = 0; km < d2; ++km) H[i * d2 + km] *= mask[i];
      }
    }
    if (spec.residual && hidden_index >= 1) {
      if (h_in.size() != m) throw std::invalid_argument("reference: residual widths differ");
      for (std::size_t i = 0; i < m; ++i) h[i] += h_in[i];
      for (std::size_t i = 0; i < m * d; ++i) J[i] += J_in[i];
      for (std::size_t i = 0; i < m * d2; ++i) H[i] += H_in[i];
    }
    ++hidden_index;
    n = m;
  }
  throw std::logic_error("reference: network without output layer");
}

// Σ_k ∂²y_i/∂x_k² (energy: the Laplacian Δφ with i = 0).
template <class T>
T laplacian(const Point<T>& p, std::size_t i = 0) {
  T sum = T(0);
  for (std::size_t k = 0; k < p.d; ++k) sum += p.H(i, k, k);
  return sum;
}

// Σ_k ∂y_k/∂x_k (score: the divergence); needs out == d.
template <class T>
T jacobian_trace(const Point<T>& p) {
  T sum = T(0);
  for (std::size_t k = 0; k < p.d; ++k) sum += p.J(k, k);
  return sum;
}

// (J v)_i.
template <class T>
T tangent(const Point<T>& p, std::size_t i, const T* v) {
  T sum = T(0);
  for (std::size_t k = 0; k < p.d; ++k) sum += p.J(i, k) * v[k];
  return sum;
}

// vᵀ H_i v.
template <class T>
T quadratic(const Point<T>& p, std::size_t i, const T* v) {
  T sum = T(0);
  for (std::size_t k = 0; k < p.d; ++k)
    for (std::size_t m = 0; m < p.d; ++m) sum += v[k] * p.H(i, k, m) * v[m];
  return sum;
}

// ---------------------------------------------------------------------------------------------
// Per-sample losses of the objectives.

template <class T>
struct SampleLoss {
  T loss = T(0);
  T magnitude = T(0);  // Σ of the absolute values of the loss's terms (a scale for tolerances)
};

template <class T>
T half_squared_norm(const std::vector<T>& v) {
  T sum = T(0);
  for (const T x : v) sum += x * x;
  return T(0.5L) * sum;
}

// Loss of one sample x (d values) with stream index `stream`. target: s*(x) (esm only).
// teacher: the parameters of dsm consistency's target, held fixed when θ is differentiated (null:
// θ itself).
template <class T>
SampleLoss<T> sample_loss(const MlpSpec& spec, const ObjectiveSettings& settings,
                          const std::vector<T>& theta, const T* x, const T* target,
                          std::uint64_t seed, std::uint64_t stream, std::uint32_t step,
                          const std::vector<T>* teacher = nullptr) {
  const std::size_t d = static_cast<std::size_t>(spec.dim);
  const bool energy = spec.output == MlpOutput::energy;
  if (spec.output == MlpOutput::decoder)
    throw std::invalid_argument("reference: objectives train energy or score models");
  // s = −∇φ for energies; the model's own output for scores.
  const auto score_of = [&](const Point<T>& p) {
    std::vector<T> s(d);
    for (std::size_t i = 0; i < d; ++i) s[i] = energy ? -p.J(0, i) : p.value(i);
    return s;
  };
  // vᵀ (∂s/∂x) v.
  const auto score_quadratic = [&](const Point<T>& p, const T* v) {
    if (energy) return -quadratic(p, 0, v);
    T sum = T(0);
    for (std::size_t i = 0; i < d; ++i) sum += v[i] * tangent(p, i, v);
    return sum;
  };
  SampleLoss<T> r;
  const std::string& name = settings.name;
  if (name == "esm") {
    const Point<T> p = evaluate(spec, theta, x, T(0), T(1), 1);
    const std::vector<T> s = score_of(p);
    std::vector<T> diff(d);
    for (std::size_t i = 0; i < d; ++i) diff[i] = s[i] - target[i];
    r.loss = half_squared_norm(diff);
    r.magnitude = r.loss;
    return r;
  }
  if (name == "ism") {
    const Point<T> p = evaluate(spec, theta, x, T(0), T(1), energy ? 2 : 1);
    const T half_sq = half_squared_norm(score_of(p));
    const T trace = energy ? -laplacian(p) : jacobian_trace(p);
    r.loss = trace + half_sq;
    r.magnitude = std::abs(trace) + half_sq;
    return r;
  }
  if (name == "ssm") {
    const std::size_t m = static_cast<std::size_t>(settings.projections);
    RandomStream rng(seed, stream, step);
    std::vector<T> v(m * d);
    for (T& vi : v)
      vi = settings.probe == "gaussian" ? static_cast<T>(rng.normal())
                                        : static_cast<T>(rng.rademacher());
    const Point<T> p = evaluate(spec, theta, x, T(0), T(1), energy ? 2 : 1);
    const std::vector<T> s = score_of(p);
    const T inv_m = T(1) / static_cast<T>(m);
    if (settings.variance_reduced) {
      r.loss = half_squared_norm(s);
      r.magnitude = r.loss;
    }
    for (std::size_t k = 0; k < m; ++k) {
      const T* vk = v.data() + k * d;
      const T curvature = inv_m * score_quadratic(p, vk);
      r.loss += curvature;
      r.magnitude += std::abs(curvature);
      if (!settings.variance_reduced) {
        T proj = T(0);
        for (std::size_t i = 0; i < d; ++i) proj += vk[i] * s[i];
        r.loss += T(0.5L) * inv_m * proj * proj;
        r.magnitude += T(0.5L) * inv_m * proj * proj;
      }
    }
    return r;
  }
  if (name == "dsm") {
    RandomStream rng(seed, stream, step);
    std::vector<T> eps(d);
    for (T& e : eps) e = static_cast<T>(rng.normal());
    T sigma = T(0), alpha = T(1), feature = T(0), scale = T(1);
    if (settings.noise == "single") {
      sigma = static_cast<T>(settings.sigma);
      if (spec.conditioning == Conditioning::sigma) {
        feature = std::log(sigma);
        scale = T(1) / sigma;
      } else if (spec.conditioning == Conditioning::time) {
        throw std::invalid_argument("reference: single-σ dsm of a time-conditioned model");
      }
    } else if (settings.noise == "ladder") {
      const double u = rng.uniform();
      const auto levels = static_cast<double>(settings.levels);
      const double i = std::min(levels - 1.0, std::floor(u * levels));
      const T ratio = static_cast<T>(settings.sigma_min) / static_cast<T>(settings.sigma_max);
      sigma = static_cast<T>(settings.sigma_max) *
              std::pow(ratio, static_cast<T>(i) / static_cast<T>(levels - 1.0));
      feature = std::log(sigma);
      scale = T(1) / sigma;
    } else if (settings.noise == "vesde" && settings.sigma_density == "lognormal") {
      // log σ ~ N(P_mean, P_std²): Box–Muller's first value of two fresh uniforms (libm here)
      const T u1 = static_cast<T>(rng.uniform()), u2 = static_cast<T>(rng.uniform());
      const T z = std::sqrt(T(-2) * std::log(u1)) * std::cos(T(2) * std::numbers::pi_v<T> * u2);
      sigma = std::exp(static_cast<T>(settings.p_mean) + static_cast<T>(settings.p_std) * z);
      feature = std::log(sigma);
      scale = T(1) / sigma;
    } else if (settings.noise == "vesde") {  // log σ uniform on [log σ_min, log σ_max]
      const T u = static_cast<T>(rng.uniform());
      const T lo = std::log(static_cast<T>(settings.sigma_min));
      const T hi = std::log(static_cast<T>(settings.sigma_max));
      sigma = std::exp(lo + u * (hi - lo));
      feature = std::log(sigma);
      scale = T(1) / sigma;
    } else if (settings.noise == "vpsde") {
      const T u = static_cast<T>(rng.uniform());
      const T t_eps = static_cast<T>(settings.t_eps);
      const T t = t_eps + (T(1) - t_eps) * u;
      const T beta_min = static_cast<T>(spec.sde.beta_min);
      const T beta_max = static_cast<T>(spec.sde.beta_max);
      const T integral = beta_min * t + T(0.5L) * t * t * (beta_max - beta_min);
      alpha = std::exp(T(-0.5L) * integral);
      sigma = std::sqrt(T(1) - std::exp(-integral));
      feature = t;
      scale = T(1) / sigma;
    } else {
      throw std::invalid_argument("reference: unknown dsm noise " + settings.noise);
    }
    std::vector<T> noisy(d);
    for (std::size_t i = 0; i < d; ++i) noisy[i] = alpha * x[i] + sigma * eps[i];
    // edm preconditioning (Karras et al. 2022, Table 1), written from the paper's denoiser
    // D = c_skip z + c_out F(c_in z): s = (D − z)/σ², loss λ‖D − x‖² with λ = (σ² + σ_d²)/(σ σ_d)².
    T c_in = T(1), c_skip = T(1), c_out = sigma, lambda = T(1) / (sigma * sigma);
    if (spec.precondition == Precondition::edm) {
      const T sd = static_cast<T>(spec.sigma_data), v = sigma * sigma + sd * sd;
      c_in = T(1) / std::sqrt(v);
      c_skip = sd * sd / v;
      c_out = sigma * sd / std::sqrt(v);
      lambda = v / (sigma * sd * sigma * sd);
      scale = T(1);  // F itself: c_out is applied below
    }
    // Dropout (settings.dropout = p > 0, training steps): one 32-bit word per hidden unit from
    // RandomStream(derive_seed(seed, 71), stream, step), layer by layer; dropped iff the word is
    // below ⌊p·2³²⌋, kept units scaled by 1/(1 − p).
    std::vector<std::vector<T>> masks;
    if (settings.dropout > 0) {
      RandomStream bits(derive_seed(seed, 71), stream, step);
      const auto threshold =
          static_cast<std::uint64_t>(std::floor(settings.dropout * 4294967296.0));
      for (const Index width : spec.hidden) {
        std::vector<T> mask(static_cast<std::size_t>(width));
        for (T& v : mask)
          v = bits.next_u32() < threshold ? T(0) : T(1) / (T(1) - static_cast<T>(settings.dropout));
        masks.push_back(mask);
      }
    }
    std::vector<T> input(d);
    for (std::size_t i = 0; i < d; ++i) input[i] = c_in * noisy[i];
    const Point<T> p =
        evaluate(spec, theta, input.data(), feature, scale, 1, masks.empty() ? nullptr : &masks);
    const std::vector<T> f = score_of(p);
    std::vector<T> s(d), residual(d);
    if (spec.precondition == Precondition::edm) {
      for (std::size_t i = 0; i < d; ++i) {
        const T denoised = c_skip * noisy[i] + c_out * f[i];
        s[i] = (denoised - noisy[i]) / (sigma * sigma);
      }
    } else {
      s = f;
    }
    for (std::size_t i = 0; i < d; ++i) residual[i] = sigma * s[i] + eps[i];
    // ½σ²‖s + ε/σ‖² (NCSN weighting), or ½λ‖D − x‖² = ½λσ²‖σs + ε‖² with edm.
    const T weight = spec.precondition == Precondition::edm ? lambda * sigma * sigma : T(1);
    r.loss = weight * half_squared_norm(residual);
    if (settings.consistency > 0) {
      // Consistency (vesde, training steps; src/objectives/dsm.cpp): from the key's own stream u
      // then ξ (K·d normals); σ' = σ 2^{−u}; K ancestral steps x' = x̃ + (σ² − σ'²) s̄(x̃, σ) +
      // σ'√(1 − σ'²/σ²) ξ (K = 1) and the target t = x' + σ'² s̄(x', σ') of the teacher θ̄ (no
      // dropout, held fixed: `teacher`, default θ); loss += λ·weight·½‖σ s + (x̃ − t)/σ‖².
      const std::vector<T>& tt = teacher != nullptr ? *teacher : theta;
      const auto teacher_score = [&](const std::vector<T>& at, T level) {
        const long double sd = static_cast<long double>(spec.sigma_data);
        const bool edm = spec.precondition == Precondition::edm;
        const T v = level * level + static_cast<T>(sd * sd);
        const T in = edm ? T(1) / std::sqrt(v) : T(1);
        std::vector<T> z(d);
        for (std::size_t i = 0; i < d; ++i) z[i] = in * at[i];
        const std::vector<T> net =
            score_of(evaluate(spec, tt, z.data(), std::log(level), edm ? T(1) : T(1) / level, 0));
        std::vector<T> out(d);
        for (std::size_t i = 0; i < d; ++i) {
          if (!edm) {
            out[i] = net[i];
            continue;
          }
          const T skip = static_cast<T>(sd * sd) / v,
                  out_scale = level * static_cast<T>(sd) / std::sqrt(v);
          out[i] = (skip * at[i] + out_scale * net[i] - at[i]) / (level * level);
        }
        return out;
      };
      RandomStream own(derive_seed(seed, 72), stream, step);
      const T lower = sigma * std::exp2(-static_cast<T>(own.uniform()));
      // K = consistency_steps ancestral steps on σ_k = σ (σ'/σ)^{k/K}, ξ_k drawn in order.
      const auto K = static_cast<std::size_t>(settings.consistency_steps);
      std::vector<T> xi(d * K), moved = noisy, goal(d), rc(d);
      for (T& v : xi) v = static_cast<T>(own.normal());
      T from = sigma;
      for (std::size_t k = 1; k <= K; ++k) {
        const T to =
            k == K ? lower : sigma * std::pow(lower / sigma, static_cast<T>(k) / static_cast<T>(K));
        const std::vector<T> s_up = teacher_score(moved, from);
        const T spread = to * std::sqrt(T(1) - to * to / (from * from));
        for (std::size_t i = 0; i < d; ++i)
          moved[i] += (from * from - to * to) * s_up[i] + spread * xi[(k - 1) * d + i];
        from = to;
      }
      const std::vector<T> s_low = teacher_score(moved, lower);
      for (std::size_t i = 0; i < d; ++i) {
        goal[i] = moved[i] + lower * lower * s_low[i];
        rc[i] = sigma * s[i] + (noisy[i] - goal[i]) / sigma;
      }
      r.loss += static_cast<T>(settings.consistency) * weight * half_squared_norm(rc);
    }
    r.magnitude = r.loss;
    return r;
  }
  throw std::invalid_argument("reference: unknown objective " + name);
}

}  // namespace scorematch::reference
