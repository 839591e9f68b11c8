#include <filesystem>

#include "command.hpp"
#include "setting_names.hpp"

namespace scorematch::cli {

namespace {
std::vector<std::string>& command_line() {
  static std::vector<std::string> args;
  return args;
}
const CLI::App*& root_app() {
  static const CLI::App* root = nullptr;
  return root;
}
}  // namespace

void set_command_line(const std::vector<std::string>& args, const CLI::App* root) {
  command_line() = args;
  root_app() = root;
}

bool is_given(const CLI::Option* option) {
  if (option->count() == 0) return false;
  if (option->get_expected_min() == 0) return option->as<bool>();  // a flag: its value
  return true;
}

bool given_on_command_line(const CLI::Option* option) {
  for (const std::string& long_name : option->get_lnames())
    for (const std::string& arg : command_line())
      if (arg == "--" + long_name || arg.rfind("--" + long_name + "=", 0) == 0) return true;
  return false;
}

std::string given_name(const CLI::Option* option) {
  const std::string name = "--" + option->get_lnames().front();
  if (given_on_command_line(option)) return name;
  const CLI::App* root = root_app();
  const CLI::Option* config = root != nullptr ? root->get_option_no_throw("--config") : nullptr;
  if (config == nullptr || config->count() == 0) return name;
  return name + " (set in job file '" + config->as<std::string>() + "')";
}

std::string setting_as_given(std::string_view key) {
  const std::string flag = flag_for_setting(key);
  const CLI::App* root = root_app();
  if (root == nullptr) return flag;
  for (const CLI::App* sub : root->get_subcommands([](const CLI::App* s) { return s->parsed(); }))
    if (const CLI::Option* option = sub->get_option_no_throw(flag);
        option != nullptr && option->count() > 0)
      return given_name(option);
  return flag;
}

app::OutputPlan output_plan(const Command& command) {
  namespace fs = std::filesystem;
  app::OutputPlan plan;
  plan.out_is_file = command.file_output;
  auto exists = [](const std::string& path) {
    std::error_code ec;
    return !path.empty() && fs::exists(path, ec);
  };
  // The job file is an input too (main takes --config before the subcommand).
  if (const CLI::App* root = command.app->get_parent(); root != nullptr)
    if (const CLI::Option* config = root->get_option_no_throw("--config");
        config != nullptr && config->count() > 0)
      for (const std::string& value : config->results())
        if (exists(value)) plan.inputs.push_back({"--config", value});
  for (const CLI::Option* opt : command.app->get_options()) {
    if (opt->count() == 0 || opt->get_expected_min() == 0) continue;  // flags
    const std::string name = opt->get_name(false, true);
    for (const std::string& value : opt->results()) {
      if (name == "--out")
        plan.out = app::NamedPath{name, value};
      else if (name == "--checkpoint-dir")
        plan.checkpoint_dir = app::NamedPath{name, value};
      else if (name == "--resume" && exists(value))
        plan.resume = app::NamedPath{name, value};
      else if (exists(value))
        plan.inputs.push_back({name, value});
    }
  }
  // Commands that checkpoint (fit, sample) write <out>.ckpt unless --checkpoint-dir says where.
  if (command.app->get_option_no_throw("--checkpoint-dir") != nullptr && !plan.checkpoint_dir &&
      plan.out) {
    std::string base = plan.out->path;
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    plan.checkpoint_dir = app::NamedPath{"checkpoint directory", base + ".ckpt"};
  }
  return plan;
}

}  // namespace scorematch::cli
