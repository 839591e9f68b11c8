// Central finite differences for checking hand-written derivatives in tests.
#pragma once
#include <functional>

#include "scorematch/core/types.hpp"

namespace scorematch::testing {

// ∂f/∂x_i at x, O(h²) error.
inline Vector fd_gradient(const std::function<double(const Vector&)>& f, const Vector& x,
                          double h = 1e-5) {
  Vector g(x.size());
  for (Index i = 0; i < x.size(); ++i) {
    Vector up = x, down = x;
    up[i] += h;
    down[i] -= h;
    g[i] = (f(up) - f(down)) / (2 * h);
  }
  return g;
}

// Σ_i ∂v_i/∂x_i at x for a vector field v.
inline double fd_divergence(const std::function<Vector(const Vector&)>& v, const Vector& x,
                            double h = 1e-5) {
  double div = 0;
  for (Index i = 0; i < x.size(); ++i) {
    Vector up = x, down = x;
    up[i] += h;
    down[i] -= h;
    div += (v(up)[i] - v(down)[i]) / (2 * h);
  }
  return div;
}

}  // namespace scorematch::testing
