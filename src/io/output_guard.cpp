#include "scorematch/io/output_guard.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "scorematch/core/error.hpp"

namespace scorematch::io {

namespace fs = std::filesystem;

namespace {
std::mutex inputs_mutex;
std::set<std::string>& inputs() {
  static std::set<std::string> paths;
  return paths;
}

std::set<std::string> read_manifest(const fs::path& dir) {
  std::set<std::string> names;
  std::ifstream in(dir / kManifestName);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') names.insert(line);
  return names;
}
}  // namespace

std::string normalised_path(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  if (ec) p = fs::absolute(path).lexically_normal();
  std::string s = p.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

bool path_within(const std::string& inner, const std::string& outer) {
  if (inner == outer) return true;
  return inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
         (outer == "/" || inner[outer.size()] == '/');
}

void note_input(const std::string& path) {
  if (path.empty()) return;
  const std::string p = normalised_path(path);
  std::lock_guard<std::mutex> lock(inputs_mutex);
  inputs().insert(p);
}

void clear_inputs() {
  std::lock_guard<std::mutex> lock(inputs_mutex);
  inputs().clear();
}

void check_not_input(const std::string& path) {
  const std::string target = normalised_path(path);
  std::lock_guard<std::mutex> lock(inputs_mutex);
  for (const std::string& input : inputs()) {
    if (path_within(input, target))
      throw Error("refusing to write '" + path + "': it " +
                  (input == target ? "is" : "holds '" + input + "', which is") +
                  " an input of this run (choose another " + setting("out") + ")");
    // A file written into an input directory (a model's) would change that input too.
    if (path_within(target, input))
      throw Error("refusing to write '" + path + "': it lies inside '" + input +
                  "', an input of this run (choose another " + setting("out") + ")");
  }
}

void check_replaceable(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  if (!fs::is_directory(dir, ec))
    throw Error("refusing to replace '" + dir + "': it exists and is not a directory");
  const std::set<std::string> listed = read_manifest(dir);
  // An output of a scorematch version before the manifest (0.1.0): it has one of the summary
  // files every command writes, and only files of the kinds scorematch writes.
  const bool legacy = !fs::exists(fs::path(dir) / kManifestName, ec) && [&] {
    for (const char* marker :
         {"meta.json", "metrics.json", "sampler.json", "map.json", "latent.json", "field.json"})
      if (fs::exists(fs::path(dir) / marker, ec)) return true;
    return false;
  }();
  auto legacy_kind = [](const fs::path& p) {
    const std::string ext = p.extension().string();
    for (const char* e : {".npy", ".json", ".jsonl", ".png", ".csv", ".dat", ".gp"})
      if (ext == e) return true;
    return false;
  };
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name == kManifestName || listed.count(name)) continue;
    if (legacy && entry.is_regular_file(ec) && legacy_kind(entry.path())) continue;
    throw Error("refusing to replace '" + dir + "': it holds '" + name +
                "', which scorematch did not write (move it away or choose another " +
                setting("out") + ")");
  }
  if (ec) throw Error("cannot read directory '" + dir + "': " + ec.message());
}

void check_checkpoint_dir(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  if (!fs::is_directory(dir, ec))
    throw Error("checkpoint directory '" + dir + "' exists and is not a directory");
  auto ours = [](const std::string& name) {
    auto starts = [&](const char* p) { return name.rfind(p, 0) == 0; };
    auto ends = [&](const char* s) {
      const std::string suffix = s;
      return name.size() >= suffix.size() &&
             name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    return (starts("ckpt-") && (ends(".bin") || name.find(".bin.tmp-") != std::string::npos)) ||
           ((starts("state-") || starts("draws-")) && name.find(".npy") != std::string::npos) ||
           starts("checkpoint.json") || starts("metrics.jsonl");
  };
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!ours(name))
      throw Error("refusing to write checkpoints into '" + dir + "': it holds '" + name +
                  "', which is not a scorematch checkpoint file (move it away or choose another " +
                  setting("checkpoint_dir") + " / " + setting("out") + ")");
  }
}

void write_manifest(const std::string& staged_dir) {
  std::ostringstream text;
  text << "# files written by scorematch; the directory may be replaced by a later run\n";
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(staged_dir))
    names.insert(entry.path().filename().string());
  for (const std::string& name : names)
    if (name != kManifestName) text << name << "\n";
  std::ofstream out(fs::path(staged_dir) / kManifestName, std::ios::trunc);
  out << text.str();
  if (!out) throw Error("cannot write the manifest of '" + staged_dir + "'");
}

namespace {
// Leftovers of an earlier run on this output that died holding its lock (SIGKILL, a crash, the
// OOM killer, a signal a command does not catch): its staged output "<base>.tmp-<pid>", a
// directory or, for single-file outputs, a file (atomic_file.cpp). The caller holds the lock, so
// no live run stages there; a pid that is still alive on this node is left alone all the same.
// "<base>.old.tmp-<pid>" (a replaced output not yet removed) is not touched: it may be the only
// copy of the previous output.
// Whether process `pid` runs on this node. A killed process that its parent (or a slow PID 1)
// has not reaped yet is a zombie for a while: kill(pid, 0) still succeeds, but it writes nothing.
bool alive(pid_t pid) {
  if (::kill(pid, 0) != 0) return errno != ESRCH;  // EPERM: another user's live process
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;  // no /proc: trust kill()
  const std::size_t close = line.rfind(')');   // "pid (comm) state ...", comm may hold spaces
  return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

void remove_stale_staging(const std::string& base) {
  std::error_code ec;
  const fs::path full = fs::absolute(base, ec);
  if (ec) return;
  const std::string prefix = full.filename().string() + ".tmp-";
  std::vector<fs::path> stale;
  for (fs::directory_iterator it(full.parent_path(), ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string pid = name.substr(prefix.size());
    // Only the names temp_suffix() makes: a pid in plain decimal (no sign, no leading zero).
    if (pid.size() > 9 || pid[0] == '0' || pid.find_first_not_of("0123456789") != std::string::npos)
      continue;
    const pid_t holder = static_cast<pid_t>(std::stol(pid));
    if (holder == ::getpid() || alive(holder)) continue;
    stale.push_back(it->path());
  }
  for (const fs::path& p : stale) fs::remove_all(p, ec);
}

std::mutex staging_mutex;
std::set<std::string>& staging() {
  static std::set<std::string> paths;
  return paths;
}
}  // namespace

void register_staging(const std::string& path) {
  const std::lock_guard<std::mutex> lock(staging_mutex);
  staging().insert(path);
}

void unregister_staging(const std::string& path) {
  const std::lock_guard<std::mutex> lock(staging_mutex);
  staging().erase(path);
}

bool remove_staging() {
  const std::lock_guard<std::mutex> lock(staging_mutex);
  const bool any = !staging().empty();
  for (const std::string& path : staging()) {
    // Another thread may still be writing into a staged directory: a file it creates between
    // remove_all's listing and its rmdir makes that fail, so try again (once the directory is
    // gone, creating a file in it fails).
    std::error_code ec;
    for (int attempt = 0;
         attempt < 20 && fs::symlink_status(path, ec).type() != fs::file_type::not_found; ++attempt)
      fs::remove_all(path, ec);
  }
  staging().clear();
  return any;
}

OutputLock::OutputLock(const std::string& path, const std::string& option) {
  std::string base = path;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  lock_path_ = base + ".lock";
  std::error_code ec;
  const fs::path parent = fs::absolute(lock_path_).parent_path();
  for (fs::path p = parent; !p.empty() && !fs::exists(p, ec) && p != p.root_path();
       p = p.parent_path())
    created_.push_back(p.string());
  fs::create_directories(parent, ec);
  for (int attempt = 0; attempt < 100; ++attempt) {
    fd_ = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
      throw Error("cannot use " + option + " '" + path + "': cannot create '" + lock_path_ +
                  "': " + std::strerror(errno));
    // A file of that name that scorematch did not write is the user's: never take it over.
    if (char head[12] = {};
        ::pread(fd_, head, 11, 0) > 0 && std::string(head).rfind("held by pid", 0) != 0) {
      ::close(fd_);
      fd_ = -1;
      throw Error("cannot use " + option + " '" + path + "': '" + lock_path_ +
                  "' exists and was not written by scorematch (move it away)");
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      char holder[512] = {};
      const ssize_t n = ::pread(fd_, holder, sizeof holder - 1, 0);
      ::close(fd_);
      fd_ = -1;
      std::string who = n > 0 ? std::string(holder, static_cast<std::size_t>(n)) : "";
      while (!who.empty() && (who.back() == '\n' || who.back() == '\0')) who.pop_back();
      throw Error(option + " '" + path + "' is in use by another run (" +
                  (who.empty() ? std::string("holder unknown") : who) + "; lock '" + lock_path_ +
                  "'): wait for it to finish or choose another " + option);
    }
    // The file may have been unlinked by a finishing holder between open and flock: retry.
    struct stat by_fd {
    }, by_name{};
    if (::fstat(fd_, &by_fd) == 0 && ::stat(lock_path_.c_str(), &by_name) == 0 &&
        by_fd.st_ino == by_name.st_ino && by_fd.st_dev == by_name.st_dev)
      break;
    ::close(fd_);
    fd_ = -1;
  }
  if (fd_ < 0) throw Error("cannot lock '" + lock_path_ + "'");
  register_staging(lock_path_);
  remove_stale_staging(base);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const std::time_t now = std::time(nullptr);
  char when[64] = {};
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::localtime(&now));
  const std::string info =
      "held by pid " + std::to_string(::getpid()) + " on " + host + " since " + when + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    const ssize_t written = ::pwrite(fd_, info.data(), info.size(), 0);
    (void)written;  // the holder text is informative only
  }
}

OutputLock::~OutputLock() {
  if (fd_ >= 0) {
    unregister_staging(lock_path_);
    ::unlink(lock_path_.c_str());  // before unlocking: a waiter that opened it retries (see above)
    ::close(fd_);
  }
  std::error_code ec;
  for (const std::string& dir : created_) fs::remove(dir, ec);  // only if empty: fails otherwise
}

}  // namespace scorematch::io
