// Error type for everything a user can fix: bad input files, bad options, singular statistics.
// The message is one line that names the file / row / column and what was expected.
//
// Settings are named by key, never by command-line flag. A message about a setting names it
// through setting("key"), where the key is the field name in its settings struct (steps,
// sigma_min, clip_norm, ...). The library does not know the flags, so renaming a flag (or adding
// another front end with other spellings) does not touch the core: a front end installs a
// SettingNamer once at start-up (the CLI maps clip_norm to --clip and sigma_min to --sigma-min,
// see src/cli/setting_names.cpp), and without one a message shows the bare key (sigma_min must be
// positive), which is what library users and the unit tests see.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace scorematch {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A setting the user gave that cannot be used: an unknown name, a value outside its domain, an
// option the chosen component does not read. A usage error: the CLI exits with code 2 (a bad
// input file or a failed computation is a plain Error, code 1).
class SettingError : public Error {
 public:
  using Error::Error;
};

// A number for a message: the shortest text that reads back as the same double ("-1e-09", "0.5";
// std::to_string's fixed 6 decimals would print -1e-9 as "-0.000000").
std::string number_text(double value);

// The message for a std::bad_alloc caught at the top of a command: what ran out and what to change.
std::string out_of_memory_message();

// How the user named the setting `key`: the installed namer's answer, or the key itself.
std::string setting(std::string_view key);

using SettingNamer = std::string (*)(std::string_view key);
// Installed once by a front end before any work; nullptr restores the bare keys.
void set_setting_namer(SettingNamer namer);

// A setting outside its domain: setting(key) + " must " + requirement [+ ", got " + value], e.g.
// InvalidSetting{ridge, be a finite number ≥ 0, -1} reads --ridge must be a finite number ≥ 0, got
// -1 under the CLI. The parts stay available for callers that want the data.
class InvalidSetting : public SettingError {
 public:
  InvalidSetting(std::string setting_key, std::string what_it_must, std::string got = {});
  std::string key, requirement, value;
};

// Loop counts (steps, warmup, levels, corrector and leapfrog steps, replicas, ...) are at most
// 2^31 - 1, so that their sums and products (warmup + steps, levels × steps) cannot overflow
// before the 32-bit step counter of the noise streams refuses the total. Throws
// InvalidSetting(key, "be at most 2147483647") for a larger value; also for counts a model stores
// for later commands (a fit's ladder levels), so that the model is refused when it is made.
inline constexpr std::int64_t kMaxLoopCount = (std::int64_t{1} << 31) - 1;
void check_loop_count(std::string_view key, std::int64_t value);

}  // namespace scorematch
