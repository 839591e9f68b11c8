#include "scorematch/objectives/sigma_density.hpp"

#include <cmath>

#include "scorematch/core/error.hpp"

namespace scorematch {

SigmaDensity SigmaDensity::parse(const std::string& name, double p_mean, double p_std) {
  SigmaDensity d;
  if (name == "lognormal") {
    d.kind = Kind::lognormal;
  } else if (name != "log-uniform") {
    throw SettingError("unknown " + setting("sigma_density") + " '" + name +
                       "' (expected log-uniform or lognormal)");
  }
  if (!std::isfinite(p_mean))
    throw SettingError(setting("p_mean") + " must be finite (mean of log sigma)");
  if (!(p_std > 0 && std::isfinite(p_std)))
    throw SettingError(setting("p_std") + " must be finite and > 0 (sd of log sigma)");
  d.p_mean = p_mean;
  d.p_std = p_std;
  return d;
}

std::string SigmaDensity::name() const {
  return kind == Kind::lognormal ? "lognormal" : "log-uniform";
}

double SigmaDensity::draw(const NoiseProcess& process, RandomStream& rng) const {
  if (kind == Kind::lognormal) return std::exp(p_mean + p_std * rng.normal());
  return process.ve_sigma(rng.uniform());
}

}  // namespace scorematch
