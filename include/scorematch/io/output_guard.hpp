// What keeps a run from losing data (the io layer's side; the CLI adds the early checks):
//  - Inputs: every file or directory a run reads is noted (note_input, called by the readers of
//    data, NPY, model directories and checkpoints); an output may never be written over one of
//    them, nor replace a directory that holds one (check_not_input, called by every writer
//    before it renames into place).
//  - Ownership: a committed output directory carries a manifest, ".scorematch-output", naming
//    the files scorematch wrote. An existing directory is replaced only if it is empty or every
//    entry in it is in its manifest, so a user's own files are never deleted.
//  - Exclusion: OutputLock holds an flock on "<out>.lock" for the whole run (released by the
//    kernel if the process dies); a second run with the same --out is refused, naming the holder
//    (host, pid, start time), instead of mixing one run's weights with the other's metrics.
#pragma once
#include <string>
#include <vector>

namespace scorematch::io {

inline constexpr const char* kManifestName = ".scorematch-output";

// Records `path` (made absolute and normalised) as an input of this process.
void note_input(const std::string& path);
// Forgets every noted input (a process that runs several independent jobs, e.g. a test).
void clear_inputs();
// Throws Error if writing (or replacing) `path` would overwrite a noted input.
void check_not_input(const std::string& path);
// The normalised absolute form used for comparisons (symlinks resolved where they exist).
std::string normalised_path(const std::string& path);
// True if `inner` is `outer` or lies inside it (both normalised).
bool path_within(const std::string& inner, const std::string& outer);

// Throws Error unless `dir` may be replaced: absent, empty, or holding only files named in its
// manifest. The message names the first foreign entry.
void check_replaceable(const std::string& dir);
// Throws Error unless `dir` may receive checkpoints: absent, or holding only the files fit and
// sample write there (ckpt-*.bin, checkpoint.json, state-*.npy, metrics.jsonl, temporaries), so
// checkpoint pruning can never delete a user's file.
void check_checkpoint_dir(const std::string& dir);
// Writes the manifest of `staged_dir` (its current entries) into it.
void write_manifest(const std::string& staged_dir);

// This process's staging: a temporary output directory or file, or its output lock file, that
// an interrupted run must not leave behind. Registered while it exists (OutputDir,
// write_file_atomic, OutputLock); remove_staging() deletes every registered path (app/stop_signals
// calls it when a stop signal ends a command). Thread-safe.
void register_staging(const std::string& path);
void unregister_staging(const std::string& path);
// Returns whether anything was registered.
bool remove_staging();

class OutputLock {
 public:
  // Locks "<path>.lock" (creating its parent directories); throws Error naming the holder if
  // another live process holds it, or naming `option` and the reason if it cannot be created.
  OutputLock(const std::string& path, const std::string& option);
  // Unlocks, and removes the parent directories it created where they are still empty (a failed
  // run leaves no trace; a finished one's output keeps them).
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  std::string lock_path_;
  int fd_ = -1;
  std::vector<std::string> created_;  // parent directories this lock created, deepest first
};

}  // namespace scorematch::io
