// SHA-256s of local files already hashed, so verifying a manifest again
// reads nothing: keyed by path, valid while the file's size and mtime stay
// the same, and saved to a file so a daemon restart keeps them.
//
// Threading: HashCache is thread-safe (one mutex); save() and load() do
// blocking I/O: not on the control thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/error.hpp"

namespace haul::models {

// Remembered SHA-256s of local files, keyed by path and valid while the
// file's size and mtime (nanoseconds) stay the same. Saved as text:
//
//   haul-sha256-cache 1
//   <sha256 hex> <size> <mtime ns> <path>      (one line per entry, by path)
//   end <number of entries>
//
// A file that is not exactly that (truncated, edited, another version) is
// ignored as a whole; paths holding a line break are not saved.
class HashCache {
 public:
  std::optional<std::string> find(const std::string& path, std::uint64_t size,
                                  std::int64_t mtime_ns) const;
  void put(const std::string& path, std::uint64_t size, std::int64_t mtime_ns, std::string sha256);
  std::size_t size() const;
  // Bumped by every put(): save when it moved since the last save.
  std::uint64_t version() const;

  std::string serialize() const;
  // Replaces the contents with what `text` holds; false (contents unchanged)
  // when it is not a cache serialize() wrote.
  bool deserialize(std::string_view text);
  // Writes `file` atomically (a temporary file renamed over it). Errors: kIo.
  Result<void> save(const std::filesystem::path& file) const;
  // Loads `file`; false when it is missing, unreadable or corrupt (then the
  // cache is left as it was). Never fails otherwise.
  bool load(const std::filesystem::path& file);

 private:
  struct Entry {
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::string sha256;
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;  // guarded by mutex_
  std::uint64_t version_ = 0;                       // guarded by mutex_
};

}  // namespace haul::models
