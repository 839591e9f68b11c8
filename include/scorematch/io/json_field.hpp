#pragma once
// Typed reads of the JSON files scorematch takes as inputs (a model's meta.json, a sample's
// sampler.json, logz.json): a value of another type — a hand edit such as "residual": "yes" — is
// an Error naming the field and what was expected, where nlohmann's own message names neither.

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "scorematch/core/error.hpp"
#include "scorematch/core/types.hpp"

namespace scorematch::io {

namespace json_field_detail {
template <class T>
bool has_type(const nlohmann::json& v) {
  const auto all = [&v](bool (nlohmann::json::*is)() const noexcept) {
    return v.is_array() &&
           std::all_of(v.begin(), v.end(), [is](const nlohmann::json& e) { return (e.*is)(); });
  };
  if constexpr (std::is_same_v<T, bool>) return v.is_boolean();
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) return v.is_number_integer();
  if constexpr (std::is_floating_point_v<T>) return v.is_number();
  if constexpr (std::is_same_v<T, std::string>) return v.is_string();
  if constexpr (std::is_same_v<T, std::vector<Index>>)
    return all(&nlohmann::json::is_number_integer);
  if constexpr (std::is_same_v<T, std::vector<std::string>>) return all(&nlohmann::json::is_string);
}

template <class T>
const char* type_words() {
  if constexpr (std::is_same_v<T, bool>) return "true or false";
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) return "an integer";
  if constexpr (std::is_floating_point_v<T>) return "a number";
  if constexpr (std::is_same_v<T, std::string>) return "a string";
  if constexpr (std::is_same_v<T, std::vector<Index>>) return "a list of integers";
  if constexpr (std::is_same_v<T, std::vector<std::string>>) return "a list of strings";
}
}  // namespace json_field_detail

// section[key] as T. `where` prefixes the key in messages: "meta.json mlp." names
// "meta.json mlp.residual". Throws Error when the key is missing or has another type.
template <class T>
T required_field(const nlohmann::json& section, const std::string& where, const std::string& key) {
  if (!section.is_object() || !section.contains(key)) throw Error(where + key + " is missing");
  const nlohmann::json& v = section.at(key);
  if (!json_field_detail::has_type<T>(v))
    throw Error(where + key + " must be " + json_field_detail::type_words<T>() + ", got " +
                v.dump());
  return v.get<T>();
}

// As required_field, with `fallback` where the key is absent (its setting's default).
template <class T>
T optional_field(const nlohmann::json& section, const std::string& where, const std::string& key,
                 T fallback) {
  if (!section.is_object() || !section.contains(key)) return fallback;
  return required_field<T>(section, where, key);
}

}  // namespace scorematch::io
