#include "setting_names.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace scorematch::cli {

namespace {
// Settings whose flag is not "--" + key with '_' -> '-'.
constexpr std::pair<std::string_view, std::string_view> kExceptions[] = {
    {"clip_norm", "--clip"},     // OptimizerSettings::clip_norm (neural_options.cpp)
    {"ema_decay", "--ema"},      // OptimizerSettings::ema_decay (neural_options.cpp)
    {"total_steps", "--steps"},  // OptimizerSettings::total_steps, set from fit's --steps
};
}  // namespace

std::string flag_for_setting(std::string_view key) {
  const auto* hit = std::find_if(std::begin(kExceptions), std::end(kExceptions),
                                 [&](const auto& e) { return e.first == key; });
  if (hit != std::end(kExceptions)) return std::string(hit->second);
  std::string flag = "--" + std::string(key);
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

}  // namespace scorematch::cli
