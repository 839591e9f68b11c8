// Step-size adaptation by dual averaging (Nesterov 2009; Hoffman & Gelman 2014, Alg. 5), one
// state per chain, separate from any transition: after warm-up iteration m (1-based) with
// acceptance probability a,
//   H̄ ← (1 − w) H̄ + w (δ − a),  w = 1/(m + t₀);   log ε ← μ − √m/γ · H̄;
//   log ε̄ ← η log ε + (1 − η) log ε̄,  η = m^(−κ);
// with γ = 0.05, t₀ = 10, κ = 0.75 and μ = log(10 ε₀). After warm-up ε̄ is used, frozen.
#pragma once
#include <cmath>

namespace scorematch {

struct DualAveraging {
  double log_step = 0, log_step_bar = 0, h_bar = 0;

  static DualAveraging start(double step) { return {std::log(step), std::log(step), 0.0}; }
  void update(double m, double accept_prob, double target_accept, double initial_step) {
    constexpr double gamma = 0.05, t0 = 10.0, kappa = 0.75;
    const double mu = std::log(10.0 * initial_step);
    const double w = 1.0 / (m + t0);
    h_bar = (1.0 - w) * h_bar + w * (target_accept - accept_prob);
    log_step = mu - std::sqrt(m) / gamma * h_bar;
    const double eta = std::pow(m, -kappa);
    log_step_bar = eta * log_step + (1.0 - eta) * log_step_bar;
  }
};

}  // namespace scorematch
