#pragma once
// Settings read from a file (a model's meta.json) are named as the file's fields, not as the flags
// the CLI's SettingNamer maps them to (core/error.hpp): the user never gave those flags.
#include "scorematch/core/error.hpp"

namespace scorematch {

// The SettingNamer installed now (null: settings are named by their keys).
SettingNamer setting_namer();

// Installs `namer` for its lifetime, then restores the one before.
class ScopedSettingNamer {
 public:
  explicit ScopedSettingNamer(SettingNamer namer) : saved_(setting_namer()) {
    set_setting_namer(namer);
  }
  ~ScopedSettingNamer() { set_setting_namer(saved_); }
  ScopedSettingNamer(const ScopedSettingNamer&) = delete;
  ScopedSettingNamer& operator=(const ScopedSettingNamer&) = delete;

 private:
  SettingNamer saved_;
};

}  // namespace scorematch
