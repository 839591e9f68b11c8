#include "scorematch/models/noise_process.hpp"

#include <cmath>

#include "scorematch/core/error.hpp"

namespace scorematch {

double NoiseProcess::ladder_sigma(double sigma_max, double sigma_min, Index levels, Index i) {
  if (levels <= 1) return sigma_min;
  return sigma_max *
         std::pow(sigma_min / sigma_max, static_cast<double>(i) / static_cast<double>(levels - 1));
}

Conditioning NoiseProcess::conditioning() const {
  switch (kind) {
    case NoiseKind::fixed:
      return Conditioning::none;
    case NoiseKind::ve_ladder:
    case NoiseKind::ve_sde:
      return Conditioning::sigma;
    case NoiseKind::vp_sde:
      return Conditioning::time;
  }
  return Conditioning::none;
}

double NoiseProcess::smallest_level() const {
  return kind == NoiseKind::fixed ? sigma : kind == NoiseKind::vp_sde ? t_eps : sigma_min;
}

bool NoiseProcess::valid() const {
  const bool range = sigma_min > 0 && sigma_min < sigma_max && std::isfinite(sigma_max);
  switch (kind) {
    case NoiseKind::fixed:
      return sigma > 0 && std::isfinite(sigma);
    case NoiseKind::ve_ladder:
      return range && levels >= 2 && levels <= kMaxLoopCount;
    case NoiseKind::ve_sde:
      return range;
    case NoiseKind::vp_sde:
      return t_eps > 0 && t_eps < 1 && sde.beta_min > 0 && sde.beta_min < sde.beta_max &&
             std::isfinite(sde.beta_max);
  }
  return false;
}

std::string NoiseProcess::requirement() const {
  switch (kind) {
    case NoiseKind::fixed:
      return "0 < sigma < inf";
    case NoiseKind::ve_ladder:
      return "0 < sigma_min < sigma_max < inf and 2 <= levels <= " + std::to_string(kMaxLoopCount);
    case NoiseKind::ve_sde:
      return "0 < sigma_min < sigma_max < inf";
    case NoiseKind::vp_sde:
      return "0 < t_eps < 1 and 0 < beta_min < beta_max < inf";
  }
  return "";
}

bool NoiseProcess::uses(const std::string& setting) const {
  switch (kind) {
    case NoiseKind::fixed:
      return setting == "sigma";
    case NoiseKind::ve_ladder:
      return setting == "sigma_min" || setting == "sigma_max" || setting == "levels";
    case NoiseKind::ve_sde:
      return setting == "sigma_min" || setting == "sigma_max";
    case NoiseKind::vp_sde:
      return setting == "beta_min" || setting == "beta_max" || setting == "t_eps";
  }
  return false;
}

std::string NoiseProcess::name() const {
  switch (kind) {
    case NoiseKind::fixed:
      return "single";
    case NoiseKind::ve_ladder:
      return "ladder";
    case NoiseKind::ve_sde:
      return "vesde";
    case NoiseKind::vp_sde:
      return "vpsde";
  }
  return "single";
}

NoiseKind parse_noise_kind(const std::string& name) {
  if (name == "single") return NoiseKind::fixed;
  if (name == "ladder") return NoiseKind::ve_ladder;
  if (name == "vesde") return NoiseKind::ve_sde;
  if (name == "vpsde") return NoiseKind::vp_sde;
  throw SettingError(setting("noise") + ": unknown dsm noise '" + name +
                     "' (expected single, ladder, vesde or vpsde)");
}

}  // namespace scorematch
