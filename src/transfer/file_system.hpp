// The filesystem calls the engine makes, behind an interface so tests can
// inject faults (a full disk, a failing fsync) the way leveldb's Env does.
// Implementations must be thread-safe: the disk threads call them concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace haul::transfer {

inline constexpr std::size_t kDirectAlignment = 4096;

struct FileStat {
  std::uint64_t length = 0;
  std::uint64_t allocated = 0;  // bytes of disk the file already holds
};

struct SpaceInfo {
  std::uint64_t available = 0;  // bytes an unprivileged writer may still use
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Opens (creating if needed, never following a symlink) a file for reading
  // and writing; returns an fd.
  virtual Result<int> open_rw(const std::filesystem::path& path) = 0;
  // Takes an exclusive advisory lock (flock) on the open file without waiting.
  // Errors: kInvalidArgument when another open file holds it.
  virtual Result<void> lock_exclusive(int fd) = 0;
  // Opens an existing file for writes that bypass the page cache (O_DIRECT):
  // offsets, lengths and memory must be multiples of kDirectAlignment.
  // Errors: kInvalidArgument when the filesystem does not support it.
  virtual Result<int> open_direct(const std::filesystem::path& path) = 0;
  // Opens an existing file read-only; returns an fd.
  virtual Result<int> open_read(const std::filesystem::path& path) = 0;
  virtual void close(int fd) = 0;
  // Length and allocated bytes of the open file.
  virtual Result<FileStat> stat(int fd) = 0;
  // Reserves `size` bytes (fallocate); where the filesystem cannot, only sets
  // the length. Errors: kNoSpace when the space is not there.
  virtual Result<void> allocate(int fd, std::uint64_t size) = 0;
  virtual Result<void> truncate(int fd, std::uint64_t size) = 0;
  // Writes all of `data` at `offset`, retrying short writes.
  virtual Result<void> write_at(int fd, const std::byte* data, std::size_t size,
                                std::uint64_t offset) = 0;
  // Reads up to `size` bytes at `offset`; returns the count read.
  virtual Result<std::size_t> read_at(int fd, std::byte* data, std::size_t size,
                                      std::uint64_t offset) = 0;
  virtual Result<void> datasync(int fd) = 0;

  virtual Result<void> rename(const std::filesystem::path& from,
                              const std::filesystem::path& to) = 0;
  // fsync of a directory, making a rename in it durable.
  virtual Result<void> sync_directory(const std::filesystem::path& dir) = 0;
  virtual Result<void> remove(const std::filesystem::path& path) = 0;
  virtual Result<SpaceInfo> space(const std::filesystem::path& dir) = 0;
  // Length of a file by path. Errors: kNotFound when there is none.
  virtual Result<std::uint64_t> file_size(const std::filesystem::path& path) = 0;
  // Creates `dir` and its parents. Errors name the directory.
  virtual Result<void> create_directories(const std::filesystem::path& dir) = 0;
  // Errors: kNotFound when the file does not exist.
  virtual Result<std::string> read_file(const std::filesystem::path& path) = 0;
  // Writes a small file via a temporary, fsync and rename, so readers see the
  // old or the new contents, never a mix.
  virtual Result<void> write_file_atomic(const std::filesystem::path& path,
                                         std::string_view contents) = 0;
};

// The real thing: POSIX calls on Linux.
std::shared_ptr<FileSystem> posix_file_system();

}  // namespace haul::transfer
