#include "scorematch/io/checkpoint.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "scorematch/core/error.hpp"
#include "scorematch/io/output_dir.hpp"
#include "scorematch/io/output_guard.hpp"
#include "scorematch/io/raw_file.hpp"

namespace scorematch::io {

namespace fs = std::filesystem;

namespace {
constexpr const char* kMagic = "SCOREMATCH-CHECKPOINT 1\n";

std::string checkpoint_name(Index step) {
  char name[64];
  std::snprintf(name, sizeof name, "ckpt-%08lld.bin", static_cast<long long>(step));
  return name;
}

std::vector<fs::path> checkpoints_in(const std::string& dir) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("ckpt-", 0) == 0 && name.size() > 9 &&
        name.compare(name.size() - 4, 4, ".bin") == 0)
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string hex(std::uint64_t v) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
  return text;
}
}  // namespace

std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t hash) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

std::string write_checkpoint(const std::string& dir, const Checkpoint& ck, int keep) {
  fs::create_directories(dir);
  nlohmann::json header = {{"config", ck.config},
                           {"config_hash", hex(fnv1a64(ck.config.dump()))},
                           {"step", ck.step},
                           {"info", ck.info}};
  std::string payload;
  nlohmann::json arrays = nlohmann::json::array();
  for (const auto& [name, v] : ck.arrays) {
    arrays.push_back({{"name", name}, {"size", v.size()}});
    payload.append(reinterpret_cast<const char*>(v.data()),
                   static_cast<std::size_t>(v.size()) * sizeof(double));
  }
  header["arrays"] = arrays;
  header["checksum"] = hex(fnv1a64(payload, fnv1a64(header.dump())));
  const std::string path = (fs::path(dir) / checkpoint_name(ck.step)).string();
  write_file_atomic(path, std::string(kMagic) + header.dump() + "\n" + payload);
  const auto files = checkpoints_in(dir);
  for (std::size_t i = 0; i + static_cast<std::size_t>(std::max(keep, 1)) < files.size(); ++i)
    remove_file(files[i].string());
  return path;
}

Checkpoint read_checkpoint(const std::string& path) {
  note_input(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open checkpoint '" + path + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
  const std::string magic = kMagic;
  if (bytes.compare(0, magic.size(), magic) != 0)
    throw Error("'" + path + "' is not a scorematch checkpoint (bad magic line)");
  const std::size_t eol = bytes.find('\n', magic.size());
  if (eol == std::string::npos) throw Error("checkpoint '" + path + "' is truncated (no header)");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(magic.size(), eol - magic.size()));
  } catch (const nlohmann::json::exception& e) {
    throw Error("checkpoint '" + path + "' has a corrupted header: " + e.what());
  }
  const std::string payload = bytes.substr(eol + 1);
  try {
    const std::string stored = header.at("checksum").get<std::string>();
    header.erase("checksum");
    if (hex(fnv1a64(payload, fnv1a64(header.dump()))) != stored)
      throw Error("checkpoint '" + path + "' is corrupted (checksum mismatch)");
    Checkpoint ck;
    ck.config = header.at("config");
    ck.step = header.at("step").get<Index>();
    ck.info = header.value("info", nlohmann::json::object());
    std::size_t offset = 0;
    for (const auto& a : header.at("arrays")) {
      const Index size = a.at("size").get<Index>();
      const std::size_t nbytes = static_cast<std::size_t>(size) * sizeof(double);
      if (size < 0 || offset + nbytes > payload.size())
        throw Error("checkpoint '" + path + "' is truncated (array '" +
                    a.at("name").get<std::string>() + "')");
      Vector v(size);
      std::memcpy(v.data(), payload.data() + offset, nbytes);
      offset += nbytes;
      ck.arrays[a.at("name").get<std::string>()] = std::move(v);
    }
    if (offset != payload.size())
      throw Error("checkpoint '" + path + "' has trailing bytes after its arrays");
    return ck;
  } catch (const nlohmann::json::exception& e) {
    throw Error("checkpoint '" + path + "' has an invalid header: " + e.what());
  }
}

std::string resolve_checkpoint(const std::string& file_or_dir) {
  if (fs::is_regular_file(file_or_dir)) return file_or_dir;
  if (!fs::is_directory(file_or_dir))
    throw Error(setting("resume") + ": '" + file_or_dir +
                "' is neither a checkpoint file nor a directory");
  const auto files = checkpoints_in(file_or_dir);
  if (files.empty())
    throw Error(setting("resume") + ": no ckpt-*.bin checkpoint in '" + file_or_dir + "'");
  return files.back().string();
}

namespace {
// Two spellings of one input file ("f.csv", "./f.csv", its absolute path) are the same setting:
// a job requeued with another spelling resumes. Only strings that name existing files compare so.
bool same_file(const nlohmann::json& a, const nlohmann::json& b) {
  if (!a.is_string() || !b.is_string()) return false;
  std::error_code ec;
  const bool same = std::filesystem::equivalent(a.get<std::string>(), b.get<std::string>(), ec);
  return !ec && same;
}

// A value for a message: a table that only one side has (a feature switched on, with its
// settings) as "set (key value, ...)", not as raw JSON.
std::string shown(const nlohmann::json& value) {
  if (!value.is_object()) return value.dump();
  std::string items;
  for (const auto& [key, v] : value.items())
    items += (items.empty() ? "" : ", ") + key + " " + (v.is_object() ? shown(v) : v.dump());
  return items.empty() ? "set" : "set (" + items + ")";
}

// Appends the differences under `path` ("" at the top; "objective." below it), descending into
// objects present on both sides, so a nested setting is named by its own key.
void describe_difference(const nlohmann::json& saved, const nlohmann::json& current,
                         const std::string& path, const std::vector<std::string>& ignored,
                         const KeyNamer& name, std::string& diff) {
  const auto add = [&diff](const std::string& text) { diff += (diff.empty() ? "" : "; ") + text; };
  const auto skip = [&ignored](const std::string& key) {
    return std::find(ignored.begin(), ignored.end(), key) != ignored.end();
  };
  const auto named = [&](const std::string& key) { return name ? name(path + key) : path + key; };
  for (const auto& [key, value] : current.items()) {
    if (skip(key)) continue;
    if (!saved.contains(key))
      add(named(key) + " was not set (the default), now " + shown(value));
    else if (saved.at(key).is_object() && value.is_object())
      describe_difference(saved.at(key), value, path + key + ".", ignored, name, diff);
    else if (saved.at(key) != value && !same_file(saved.at(key), value))
      add(named(key) + " was " + shown(saved.at(key)) + ", now " + shown(value));
  }
  for (const auto& [key, value] : saved.items())
    if (!skip(key) && !current.contains(key))
      add(named(key) + " was " + shown(value) + ", now not set (the default)");
}
}  // namespace

nlohmann::json with_canonical_paths(nlohmann::json config,
                                    const std::vector<std::string>& path_keys) {
  if (!config.is_object()) return config;
  for (auto& [key, value] : config.items()) {
    if (value.is_object()) {
      value = with_canonical_paths(value, path_keys);
      continue;
    }
    if (!value.is_string() || value.get<std::string>().empty() ||
        std::find(path_keys.begin(), path_keys.end(), key) == path_keys.end())
      continue;
    std::error_code ec;
    const std::filesystem::path file = value.get<std::string>();
    if (!std::filesystem::exists(file, ec)) continue;
    const std::filesystem::path canonical = std::filesystem::canonical(file, ec);
    if (!ec) value = canonical.string();
  }
  return config;
}

std::string config_difference(const nlohmann::json& saved, const nlohmann::json& current,
                              const std::vector<std::string>& ignored, const KeyNamer& name) {
  std::string diff;
  describe_difference(saved, current, "", ignored, name, diff);
  return diff;
}

}  // namespace scorematch::io
