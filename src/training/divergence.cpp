#include "scorematch/training/divergence.hpp"

#include <cmath>
#include <cstdio>

namespace scorematch {

namespace {
std::string g(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", v);
  return buffer;
}
}  // namespace

DivergenceMonitor::DivergenceMonitor(const Vector& theta0) : theta0_norm_(theta0.norm()) {}

std::string DivergenceMonitor::check(double loss, const Vector& theta) {
  const double norm = theta.norm();
  if (!std::isfinite(loss)) return "the loss is " + g(loss);
  if (!std::isfinite(norm)) return "the parameters are no longer finite";
  if (!have_first_) {
    first_loss_ = loss;
    have_first_ = true;
  }
  const double loss_scale = std::max(std::fabs(first_loss_), 1.0);
  if (std::fabs(loss) > kLossGrowth * loss_scale)
    return "the loss exploded to " + g(loss) + " (first step: " + g(first_loss_) + ")";
  const double theta_scale = std::max(theta0_norm_, 1.0);
  if (norm > kThetaGrowth * theta_scale)
    return "the parameter norm exploded to " + g(norm) + " (start: " + g(theta0_norm_) + ")";
  return {};
}

}  // namespace scorematch
