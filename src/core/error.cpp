#include "scorematch/core/error.hpp"
#include "scorematch/core/scoped_setting_namer.hpp"

#include <atomic>
#include <charconv>
#include <utility>

namespace scorematch {

namespace {
// Errors may be thrown from worker threads; the namer is set once, before any work.
std::atomic<SettingNamer> installed_namer{nullptr};

std::string invalid_setting_message(std::string_view key, const std::string& requirement,
                                    const std::string& value) {
  std::string message = setting(key) + " must " + requirement;
  if (!value.empty()) message += ", got " + value;
  return message;
}
}  // namespace

std::string number_text(double value) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return std::string(text, end);
}

std::string out_of_memory_message() {
  return "out of memory (std::bad_alloc): the run asked for more memory than this machine could "
         "give it; use fewer rows, chains, draws or a smaller batch or network, or more ranks";
}

std::string setting(std::string_view key) {
  const SettingNamer namer = installed_namer.load(std::memory_order_acquire);
  return namer != nullptr ? namer(key) : std::string(key);
}

void set_setting_namer(SettingNamer namer) {
  installed_namer.store(namer, std::memory_order_release);
}

SettingNamer setting_namer() {
  return installed_namer.load(std::memory_order_acquire);
}

InvalidSetting::InvalidSetting(std::string setting_key, std::string what_it_must, std::string got)
    : SettingError(invalid_setting_message(setting_key, what_it_must, got)),
      key(std::move(setting_key)),
      requirement(std::move(what_it_must)),
      value(std::move(got)) {}

void check_loop_count(std::string_view key, std::int64_t value) {
  if (value > kMaxLoopCount)
    throw InvalidSetting(std::string(key), "be at most " + std::to_string(kMaxLoopCount),
                         std::to_string(value));
}

}  // namespace scorematch
