// The one table from the library's setting keys to this CLI's flags. Library messages name a
// setting by its key (scorematch::setting("clip_norm")); main installs flag_for_setting, so the
// user reads the flag they typed ("--clip"). Renaming a flag edits its option and, where the rule
// below no longer holds, this table, never the core.
#pragma once
#include <string>
#include <string_view>

namespace scorematch::cli {

// "--" + key with '_' -> '-' ("sigma_min" -> "--sigma-min"), except the keys whose flag is spelled
// differently (listed in setting_names.cpp).
std::string flag_for_setting(std::string_view key);

}  // namespace scorematch::cli
