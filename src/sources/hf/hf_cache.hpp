// The huggingface_hub cache layout, so files haul downloads are found by
// transformers, diffusers and `hf` afterwards:
//
//   $HF_HUB_CACHE/CACHEDIR.TAG
//   $HF_HUB_CACHE/.locks/models--org--name/<etag>.lock
//   $HF_HUB_CACHE/models--org--name/refs/<revision>        commit hex, no newline
//   $HF_HUB_CACHE/models--org--name/blobs/<etag>           the content
//   $HF_HUB_CACHE/models--org--name/blobs/<etag>.incomplete
//   $HF_HUB_CACHE/models--org--name/snapshots/<commit>/<path> -> ../../blobs/<etag>
//   $HF_HUB_CACHE/models--org--name/.no_exist/<commit>/<path>   empty marker
//
// Paths are computed purely; the few filesystem operations (refs, symlinks,
// moving a finished download in) are small and synchronous. Every string that
// may come from a server (etag, commit, revision, file path) is checked before
// it becomes a path, so nothing lands outside the repository folder.
//
// Deliberate difference from huggingface_hub >= 1.18: haul keeps one
// blobs/<etag>.incomplete per blob (the v0.x name) and resumes it across runs.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "sources/hf/hf_ref.hpp"

namespace haul::sources::hf {

using GetEnv = std::function<std::optional<std::string>(std::string_view)>;

// huggingface_hub's constants: HF_HUB_CACHE, else the legacy
// HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, with HF_HOME defaulting to
// ${XDG_CACHE_HOME:-$HOME/.cache}/huggingface. A leading "~" and $VAR / ${VAR}
// are expanded (Python's expanduser and expandvars; unknown variables stay).
// An empty variable counts as unset. Errors: kInvalidArgument when none of
// HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME, XDG_CACHE_HOME or HOME is set.
Result<std::filesystem::path> hub_cache_dir(const GetEnv& getenv);

// "models--org--name", "datasets--org--name", "spaces--org--name".
std::string repo_folder_name(const HfRef& ref);

// The exact CACHEDIR.TAG huggingface_hub writes at the hub cache's root.
inline constexpr std::string_view kCacheDirTag =
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by huggingface_hub.\n"
    "# For information about cache directory tags, see:\n"
    "#\thttps://bford.info/cachedir/\n";

// One repository inside a hub cache. Cheap to copy; holds paths only. Not
// thread-safe per file: two writers of the same blob need the caller's lock
// (lock_path, shared with huggingface_hub's filelock).
class HfCacheRepo {
 public:
  HfCacheRepo(std::filesystem::path hub_cache, HfRef ref);

  const std::filesystem::path& hub_cache() const { return hub_cache_; }
  // hub_cache/models--org--name
  const std::filesystem::path& repo_dir() const { return repo_dir_; }

  // Errors (all path functions): kInvalidArgument when etag or commit is empty,
  // ".", "..", or holds '/', '\', NUL or a control character, or when a
  // revision or file path fails check_repo_path.
  Result<std::filesystem::path> blob_path(std::string_view etag) const;
  Result<std::filesystem::path> incomplete_path(
      std::string_view etag) const;  // blobs/<etag>.incomplete
  Result<std::filesystem::path> lock_path(
      std::string_view etag) const;  // .locks/<repo folder>/<etag>.lock
  Result<std::filesystem::path> snapshot_path(std::string_view commit, std::string_view file) const;
  Result<std::filesystem::path> ref_path(std::string_view revision) const;  // refs/<revision>

  // Records that `revision` points to `commit`: refs/<revision> (nested for
  // "refs/pr/1") holds the commit without a newline, written to a temporary
  // file and renamed. Nothing is written when revision == commit or the file
  // already says so (as _cache_commit_hash_for_specific_revision). Errors:
  // kInvalidArgument (see above), kIo.
  Result<void> write_ref(std::string_view revision, std::string_view commit) const;
  // The commit refs/<revision> names (surrounding whitespace dropped); none
  // when the file is missing, empty or unreadable, or the revision is unsafe.
  std::optional<std::string> read_ref(std::string_view revision) const;

  // True when blobs/<etag> exists as a regular file.
  bool has_blob(std::string_view etag) const;

  // Makes snapshots/<commit>/<file> a relative symlink to blobs/<etag>
  // ("../../blobs/<etag>", one more "../" per directory in `file`). Creates
  // the directories, replaces an existing link or file atomically (new link
  // under a temporary name, then rename), and writes hub_cache/CACHEDIR.TAG
  // when missing. Call it last: readers take the link's existence as "done".
  // The blob need not exist yet. Errors: kInvalidArgument, kIo (a directory in
  // the way, no symlink support, permissions).
  Result<void> link_snapshot(std::string_view commit, std::string_view file,
                             std::string_view etag) const;

  // Moves a finished download to blobs/<etag>: gives it the mode a new file
  // gets in the repository folder (0666 minus the umask, found as
  // huggingface_hub does by creating a file there), then renames it (copying
  // across filesystems). Replaces an existing blob. Errors: kInvalidArgument,
  // kIo, kNoSpace.
  Result<void> adopt_blob(const std::filesystem::path& downloaded_file,
                          std::string_view etag) const;

  // Creates the empty marker .no_exist/<commit>/<file> for a file the Hub
  // answered EntryNotFound for. huggingface_hub only logs a failure here; the
  // caller may do the same. Errors: kInvalidArgument, kIo.
  Result<void> mark_missing(std::string_view commit, std::string_view file) const;

 private:
  std::filesystem::path hub_cache_;
  HfRef ref_;
  std::filesystem::path repo_dir_;
};

}  // namespace haul::sources::hf
