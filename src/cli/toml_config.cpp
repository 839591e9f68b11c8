// TOML job files for --config, parsed by toml++ and handed to CLI11 as config items, so flags on
// the command line override the file and unknown keys are errors. Keys under [fit], [eval], [gen]
// set that subcommand's options (same names as the long flags, without the dashes); arrays give
// multi-valued options. A component's settings may also be grouped in its own table:
//   [fit.objective]  name = "dsm"  noise = "ladder"  sigma-min = 0.01
//   [fit.optimizer]  name = "adamw"  lr = 1e-3
//   [sample.sampler] name = "mala"  target-accept = 0.6
#include <toml++/toml.h>

#include <charconv>
#include <map>
#include <sstream>
#include <string_view>
#include <system_error>

#include "command.hpp"
#include "option_values.hpp"

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

// Whether a TOML value has the type the option takes. CLI11 sees every value as text, so without
// this `steps = "10"` or `chains = 2.5` (read as 2 by some conversions) would pass or fail with a
// message that does not name the job file.
bool fits(const toml::node& node, Takes kind) {
  switch (kind) {
    // Any TOML integer (64 bits), as on the command line; CLI11 refuses a value out of range of
    // a narrower option ("out of range for this option").
    case Takes::integer:
      return node.is_integer();
    case Takes::unsigned_integer:
      return node.is_integer() && node.as_integer()->get() >= 0;
    case Takes::number:
      return node.is_integer() || node.is_floating_point();
    case Takes::text:
      return node.is_string();
    case Takes::flag:
      return node.is_boolean();
    case Takes::unknown:
      return true;
  }
  return true;
}

const char* toml_type(const toml::node& node) {
  if (node.is_string()) return "a string";
  if (node.is_integer()) return "an integer";
  if (node.is_floating_point()) return "a floating-point number";
  if (node.is_boolean()) return "a boolean";
  return "another TOML type";
}

// The option a job-file key sets ([fit] steps -> fit's --steps), or null (CLI11 then reports the
// unknown key).
const CLI::Option* option_for(const CLI::App* root, const std::vector<std::string>& parents,
                              const std::string& name) {
  const CLI::App* app = root;
  for (const std::string& parent : parents) {
    const auto subs =
        app->get_subcommands([&](const CLI::App* s) { return s->check_name(parent); });
    if (subs.empty()) return nullptr;
    app = subs.front();
  }
  return app->get_option_no_throw("--" + name);
}

// Component tables: [fit.objective], [fit.optimizer] and [sample.sampler] group a component's
// settings; their `name` is the component's own option (objective = "dsm") and every other key
// is the subcommand's option of that name, so the flat keys ([fit] sigma = 0.1) stay valid. A
// table is a component only under a subcommand that has that option (fit has no sampler).
bool is_component(const CLI::App* root, const std::vector<std::string>& parents,
                  std::string_view key) {
  if (parents.size() != 1 || (key != "objective" && key != "optimizer" && key != "sampler"))
    return false;
  return root == nullptr || option_for(root, parents, std::string(key)) != nullptr;
}

// Whether [parents.key] names a subcommand (the tables a job file may have besides components).
bool is_subcommand(const CLI::App* root, const std::vector<std::string>& parents,
                   const std::string& key) {
  const CLI::App* app = root;
  auto path = parents;
  path.push_back(key);
  for (const std::string& name : path) {
    const auto subs = app->get_subcommands([&](const CLI::App* s) { return s->check_name(name); });
    if (subs.empty()) return false;
    app = subs.front();
  }
  return true;
}

// The checks below take the option a key sets (null: unknown, left to CLI11).
void check_type(const CLI::Option* option, const std::string& name, const toml::node& node) {
  if (option == nullptr) return;
  const Takes kind = takes(*option);
  if (fits(node, kind)) return;
  std::ostringstream msg;
  msg << "line " << node.source().begin.line << ": " << name;
  if (node.is_integer() && (kind == Takes::integer || kind == Takes::unsigned_integer))
    msg << " = " << node.as_integer()->get() << " is out of range for --" << name << " ("
        << described(kind) << ")";
  else
    msg << " is " << toml_type(node) << ", but --" << name << " takes " << described(kind);
  throw CLI::ConfigError(msg.str());
}

// Options already set by the file, with the key and line that set them: a second setting of the
// same option (`lr` in [fit] and in [fit.optimizer], or `standardize` and `no-standardize`) is an
// error, not a silent first-one-wins.
using SetBy = std::map<const CLI::Option*, std::pair<std::string, std::size_t>>;

void check_once(const CLI::Option* option, const std::string& name, const toml::node& node,
                SetBy& seen) {
  if (option == nullptr) return;
  const std::size_t line = node.source().begin.line;
  const auto [at, fresh] = seen.emplace(option, std::make_pair(name, line));
  if (fresh) return;
  // TOML tables are read in key order, not line order: name both, earlier line first.
  std::pair<std::string, std::size_t> first = at->second, second{name, line};
  if (second.second < first.second) std::swap(first, second);
  throw CLI::ConfigError("lines " + std::to_string(first.second) + " (" + first.first + ") and " +
                         std::to_string(second.second) + " (" + second.first + ") both set --" +
                         option->get_lnames().front());
}

// CLI11 would name a key of [fit.objective] that is no option as "fit.<key>", a table the file
// does not have, and a key of [fit] without its line: name it as written, with its line.
[[noreturn]] void unknown_key(const std::vector<std::string>& parents, std::string_view component,
                              std::string_view key, const toml::node& node) {
  std::string table;
  for (const std::string& p : parents) table += (table.empty() ? "" : ".") + p;
  if (!component.empty()) table += "." + std::string(component);
  throw CLI::ConfigError("line " + std::to_string(node.source().begin.line) + ": unknown key '" +
                         table + "." + std::string(key) + "' (keys of [" + table +
                         "] are the long option names of " + parents.front() + "; see scorematch " +
                         parents.front() + " --help)");
}

void flatten(const CLI::App* root, const toml::table& table, std::vector<std::string> parents,
             std::vector<CLI::ConfigItem>& items, SetBy& seen, std::string_view component = {}) {
  for (const auto& [key, node] : table) {
    if (const auto* sub = node.as_table()) {
      // A component holds settings, not tables; any other table must name a subcommand (CLI11
      // would take [fit.objective.optimizer] as the optimizer's, or ignore [fit.sampler]).
      if (component.empty() && is_component(root, parents, key.str())) {
        flatten(root, *sub, parents, items, seen, key.str());
        continue;
      }
      if (component.empty() &&
          (root == nullptr || is_subcommand(root, parents, std::string(key.str())))) {
        auto deeper = parents;
        deeper.emplace_back(key.str());
        flatten(root, *sub, deeper, items, seen);
        continue;
      }
      std::string path;
      for (const std::string& p : parents) path += p + ".";
      if (!component.empty()) path += std::string(component) + ".";
      throw CLI::ConfigError("line " + std::to_string(node.source().begin.line) +
                             ": unknown table [" + path + std::string(key.str()) +
                             "] (tables are subcommands, and under fit its objective and "
                             "optimizer, under sample its sampler)");
    }
    CLI::ConfigItem item;
    item.parents = parents;
    item.name =
        !component.empty() && key.str() == "name" ? std::string(component) : std::string(key.str());
    const CLI::Option* option = root != nullptr ? option_for(root, parents, item.name) : nullptr;
    // A key of a subcommand's (or its component's) table that no option of it takes: named here
    // with its line, not left to CLI11 (whose config items do not fall through to the program's
    // options either).
    if (option == nullptr && root != nullptr && !parents.empty()) {
      if (option_for(root, {}, item.name) != nullptr)
        throw CLI::ConfigError("line " + std::to_string(node.source().begin.line) + ": '" +
                               item.name + "' is a program option, not one of [" + parents.front() +
                               "]: set it at the top of the file, before any [table]");
      unknown_key(parents, component, key.str(), node);
    }
    check_once(option, item.name, node, seen);
    if (const auto* array = node.as_array()) {
      for (const auto& element : *array) {
        check_type(option, item.name, element);
        item.inputs.push_back(scalar_text(element));
      }
    } else {
      check_type(option, item.name, node);
      item.inputs.push_back(scalar_text(node));
    }
    items.push_back(std::move(item));
  }
}

class TomlConfig : public CLI::Config {
 public:
  explicit TomlConfig(const CLI::App* root) : root_(root) {}
  std::string to_config(const CLI::App*, bool, bool, std::string) const override { return {}; }
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    std::vector<CLI::ConfigItem> parsed;
    try {
      SetBy seen;
      flatten(root_, toml::parse(input), {}, parsed, seen);
    } catch (const toml::parse_error& e) {
      std::ostringstream msg;
      msg << "line " << e.source().begin.line << ", column " << e.source().begin.column << ": "
          << e.description();
      throw CLI::ConfigError(msg.str());
    }
    return parsed;
  }

 private:
  const CLI::App* root_;
};

}  // namespace

std::shared_ptr<CLI::Config> make_toml_config(const CLI::App& root) {
  return std::make_shared<TomlConfig>(&root);
}

}  // namespace scorematch::cli
