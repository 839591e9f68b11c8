// TOML job files for --config, parsed by toml++ and handed to CLI11 as config items, so flags on
// the command line override the file and unknown keys are errors. Keys under [fit], [eval], [gen]
// set that subcommand's options (same names as the long flags, without the dashes); arrays give
// multi-valued options. A component's settings may also be grouped in its own table:
//   [fit.objective]  name = "dsm"  noise = "ladder"  sigma-min = 0.01
//   [fit.optimizer]  name = "adamw"  lr = 1e-3
//   [sample.sampler] name = "mala"  target-accept = 0.6
#include <toml++/toml.h>

#include <charconv>
#include <sstream>
#include <string_view>
#include <system_error>

#include "command.hpp"

namespace scorematch::cli {

namespace {

std::string scalar_text(const toml::node& node) {
  std::ostringstream out;
  node.visit([&](const auto& value) {
    if constexpr (toml::is_string<decltype(value)>) {
      out << value.get();
    } else if constexpr (toml::is_boolean<decltype(value)>) {
      out << (value.get() ? "true" : "false");
    } else if constexpr (toml::is_integer<decltype(value)>) {
      out << value.get();  // int64: exact
    } else if constexpr (toml::is_floating_point<decltype(value)>) {
      // Shortest text that reads back to the same double (std::to_chars round-trip guarantee):
      // a job file gives exactly what the same flag gives (an ostream would keep 6 digits).
      char buffer[64];
      const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value.get());
      if (ec != std::errc()) throw CLI::ConfigError("cannot format a TOML float");
      out << std::string_view(buffer, static_cast<std::size_t>(end - buffer));
    } else {
      throw CLI::ConfigError(
          "unsupported TOML value (expected a string, number, boolean or array)");
    }
  });
  return out.str();
}

// Component tables: [fit.objective], [fit.optimizer] and [sample.sampler] group a component's
// settings; their `name` is the component's own option (objective = "dsm") and every other key
// is the subcommand's option of that name, so the flat keys ([fit] sigma = 0.1) stay valid.
bool is_component(const std::vector<std::string>& parents, std::string_view key) {
  return parents.size() == 1 && (key == "objective" || key == "optimizer" || key == "sampler");
}

void flatten(const toml::table& table, std::vector<std::string> parents,
             std::vector<CLI::ConfigItem>& items, std::string_view component = {}) {
  for (const auto& [key, node] : table) {
    if (const auto* sub = node.as_table(); sub != nullptr && is_component(parents, key.str())) {
      flatten(*sub, parents, items, key.str());
      continue;
    }
    if (const auto* sub = node.as_table()) {
      auto deeper = parents;
      deeper.emplace_back(key.str());
      flatten(*sub, deeper, items);
      continue;
    }
    CLI::ConfigItem item;
    item.parents = parents;
    item.name =
        !component.empty() && key.str() == "name" ? std::string(component) : std::string(key.str());
    if (const auto* array = node.as_array()) {
      for (const auto& element : *array) item.inputs.push_back(scalar_text(element));
    } else {
      item.inputs.push_back(scalar_text(node));
    }
    items.push_back(std::move(item));
  }
}

class TomlConfig : public CLI::Config {
 public:
  std::string to_config(const CLI::App*, bool, bool, std::string) const override { return {}; }
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    std::vector<CLI::ConfigItem> parsed;
    try {
      flatten(toml::parse(input), {}, parsed);
    } catch (const toml::parse_error& e) {
      std::ostringstream msg;
      msg << "line " << e.source().begin.line << ", column " << e.source().begin.column << ": "
          << e.description();
      throw CLI::ConfigError(msg.str());
    }
    return parsed;
  }
};

}  // namespace

std::shared_ptr<CLI::Config> make_toml_config() {
  return std::make_shared<TomlConfig>();
}

}  // namespace scorematch::cli
