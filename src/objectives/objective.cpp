#include "scorematch/objectives/objective.hpp"

#include <functional>
#include <map>

#include "scorematch/core/error.hpp"

namespace scorematch {

namespace {
using Factory = std::function<std::unique_ptr<Objective>(const ObjectiveSettings&)>;
const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> table{
      {"esm", make_esm_objective}, {"ism", make_ism_objective}, {"ssm", make_ssm_objective},
      {"dsm", make_dsm_objective}, {"nce", make_nce_objective},
  };
  return table;
}
}  // namespace

std::vector<std::string> objective_names() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : factories()) names.push_back(name);
  return names;
}

std::unique_ptr<Objective> make_objective(const ObjectiveSettings& settings) {
  auto it = factories().find(settings.name);
  if (it == factories().end()) {
    std::string known;
    for (const auto& name : objective_names()) known += (known.empty() ? "" : ", ") + name;
    throw SettingError(setting("objective") + ": unknown objective '" + settings.name +
                       "' (expected one of " + known + ")");
  }
  return it->second(settings);
}

}  // namespace scorematch
