// Whether a model's files are on disk: for each file of a group, look in
// each candidate directory (folders.hpp), follow symlinks, and decide
// present, corrupt (size or SHA-256 differs), partial (a `<path>.part` of an
// unfinished download) or missing. Verification hashes with the engine's
// SHA-256 and remembers each answer in a HashCache keyed by (path, size,
// mtime), so checking again, even after a daemon restart, reads nothing.
//
// Threading: the checks do blocking I/O (stat, reading .part.state files,
// hashing whole files): run them off the control thread (the daemon runs
// them on a worker) and post the results back. A PresenceChecker is
// immutable and may be used from several threads at once; HashCache is
// thread-safe. The value types and functions on them are pure.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "models/folders.hpp"
#include "models/hash_cache.hpp"
#include "models/model.hpp"

namespace haul::models {

enum class Presence {
  kPresent,      // every check passed: exists, size matches (and SHA-256 when verified)
  kMissing,      // not at any candidate path (a dangling symlink counts as missing)
  kPartial,      // `<path>.part` exists: an unfinished download (bytes_done says how far)
  kCorrupt,      // a file is there but its size or SHA-256 differs, or it is not a regular file
  kDownloading,  // a live job is writing it: set by the daemon, never by the checker
};

// "present", "missing", "partial", "corrupt", "downloading".
std::string_view presence_name(Presence presence);
// The inverse of presence_name; nullopt for any other text.
std::optional<Presence> parse_presence(std::string_view name);

// A model's state from its files': present when all are, else downloading if
// any is, else corrupt if any is, else partial if any is, else missing
// (also for a model without files).
Presence combine_presence(const std::vector<Presence>& files);

struct FileCheck {
  Presence state = Presence::kMissing;
  // Where the file was found, or where it would go (the first candidate). For
  // a partial file, the final path (the bytes are at path + ".part").
  std::string path;
  std::uint64_t size_on_disk = 0;  // the file's size, or the .part file's
  std::uint64_t bytes_done = 0;    // partial: bytes known done; present: the size
  // Why it is not present, for people: "size 10 differs from 20",
  // "sha256 ab12... differs from cd34...", "dangling symlink".
  std::string reason;
  bool verified = false;  // present, and its SHA-256 was compared (or cached)
  friend bool operator==(const FileCheck&, const FileCheck&) = default;
};

struct ModelCheck {
  std::string id;  // Model::id
  Presence state = Presence::kMissing;
  std::vector<FileCheck> files;  // in the order of Model::files
};

Presence model_presence(const std::vector<FileCheck>& files);

// Decides one file's presence from what is seen at its candidate paths, in
// candidate order: the first present one wins; else the first corrupt one;
// else the first partial one; else missing. Shared by the local checker and
// remote_presence.hpp, so both judge alike. Pure.
class FileVerdict {
 public:
  FileVerdict(std::optional<std::uint64_t> want_size, std::string_view want_sha256);

  // Whether a file of `size` bytes would be judged by its SHA-256: the size
  // matches (or none is expected) and a SHA-256 is expected.
  bool wants_hash(std::uint64_t size) const;
  // A regular file (symlinks followed) at `path`; `sha256` is its hash when
  // computed, else empty (then the size decides). True when it is present:
  // the caller may stop looking.
  bool file(const std::string& path, std::uint64_t size, std::string_view sha256);
  // Something that is not a usable regular file (a directory, a device, a
  // file whose size cannot be read): corrupt, with `reason`.
  void not_a_file(const std::string& path, std::string reason = "not a regular file");
  // A symlink whose target does not exist.
  void dangling(const std::string& path);
  // `path` + ".part" exists with `part_size` bytes, `bytes_done` of them done.
  void part(const std::string& path, std::uint64_t part_size, std::uint64_t bytes_done);

  bool present() const { return present_.has_value(); }
  // The verdict; `missing_path` is where the file would go.
  FileCheck finish(const std::string& missing_path) const;

 private:
  std::optional<std::uint64_t> want_size_;
  std::string want_sha256_;  // lower case
  std::optional<FileCheck> present_, corrupt_, partial_;
  std::string dangling_;
};

class PresenceChecker {
 public:
  // `folders` and `cache` (may be null: no memory of hashes) must outlive
  // the checker.
  explicit PresenceChecker(const ModelFolders& folders, HashCache* cache = nullptr);

  // One file of a model of `group`. Without `verify` only stat()s; with it,
  // a file whose size matches and whose sha256 the manifest gives is hashed
  // (or its cached hash used). A relative path that leaves its folder ("..")
  // is missing with a reason, and nothing is read for it.
  FileCheck check_file(std::string_view group, const ModelFile& file, bool verify) const;
  ModelCheck check_model(const Model& model, bool verify) const;
  // A whole manifest: each group's candidates computed once and each
  // directory's existence checked once, so 10,000 entries take milliseconds
  // with a warm page cache (bench/presence.sh).
  std::vector<ModelCheck> check_models(const std::vector<Model>& models, bool verify) const;

 private:
  const ModelFolders& folders_;
  HashCache* cache_;
};

}  // namespace haul::models
