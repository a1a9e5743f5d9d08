// A FileSystem that forwards to the real one but can be told to fail the way
// a full or broken disk does, as leveldb's fault-injection Env does.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "transfer/file_system.hpp"

namespace haul::testing {

class FaultyFileSystem final : public transfer::FileSystem {
 public:
  FaultyFileSystem() : real_(transfer::posix_file_system()) {}

  // write_at fails with ENOSPC once this many bytes were written in total.
  std::atomic<std::uint64_t> write_budget{UINT64_MAX};
  // What space() reports; UINT64_MAX = the real figure.
  std::atomic<std::uint64_t> reported_space{UINT64_MAX};
  std::atomic<bool> fail_datasync{false};
  std::atomic<std::uint64_t> bytes_written{0};
  // What went out with O_DIRECT, and what read_at read back of all bytes and
  // of those (a read of them has to go to the disk: they are not cached).
  std::atomic<std::uint64_t> direct_bytes_written{0};
  std::atomic<std::uint64_t> bytes_read{0};
  std::atomic<std::uint64_t> direct_bytes_read{0};

  Result<int> open_rw(const std::filesystem::path& path) override {
    auto fd = real_->open_rw(path);
    if (fd) remember(*fd, path, false);
    return fd;
  }
  Result<int> open_direct(const std::filesystem::path& path) override {
    auto fd = real_->open_direct(path);
    if (fd) remember(*fd, path, true);
    return fd;
  }
  Result<void> lock_exclusive(int fd) override { return real_->lock_exclusive(fd); }
  Result<int> open_read(const std::filesystem::path& path) override {
    return real_->open_read(path);
  }
  void close(int fd) override {
    {
      std::lock_guard lock(mutex_);
      files_.erase(fd);
    }
    real_->close(fd);
  }
  Result<transfer::FileStat> stat(int fd) override { return real_->stat(fd); }
  Result<void> allocate(int fd, std::uint64_t size) override { return real_->allocate(fd, size); }
  Result<void> truncate(int fd, std::uint64_t size) override { return real_->truncate(fd, size); }
  Result<void> write_at(int fd, const std::byte* data, std::size_t size,
                        std::uint64_t offset) override {
    if (bytes_written.load() + size > write_budget.load()) {
      return fail(ErrorCode::kNoSpace, "cannot write: No space left on device");
    }
    bytes_written += size;
    {
      std::lock_guard lock(mutex_);
      auto it = files_.find(fd);
      if (it != files_.end() && it->second.second) {
        direct_written_[it->second.first].emplace_back(offset, offset + size);
        direct_bytes_written += size;
      }
    }
    return real_->write_at(fd, data, size, offset);
  }
  Result<std::size_t> read_at(int fd, std::byte* data, std::size_t size,
                              std::uint64_t offset) override {
    bytes_read += size;
    {
      std::lock_guard lock(mutex_);
      auto it = files_.find(fd);
      if (it != files_.end()) {
        for (const auto& [begin, end] : direct_written_[it->second.first]) {
          const std::uint64_t from = std::max(begin, offset);
          const std::uint64_t to = std::min(end, offset + size);
          if (from < to) direct_bytes_read += to - from;
        }
      }
    }
    return real_->read_at(fd, data, size, offset);
  }
  Result<void> datasync(int fd) override {
    if (fail_datasync) return fail(ErrorCode::kIo, "cannot flush: Input/output error");
    return real_->datasync(fd);
  }
  Result<void> rename(const std::filesystem::path& from, const std::filesystem::path& to) override {
    return real_->rename(from, to);
  }
  Result<void> sync_directory(const std::filesystem::path& dir) override {
    return real_->sync_directory(dir);
  }
  Result<void> remove(const std::filesystem::path& path) override { return real_->remove(path); }
  Result<transfer::SpaceInfo> space(const std::filesystem::path& dir) override {
    if (reported_space != UINT64_MAX) return transfer::SpaceInfo{reported_space.load()};
    return real_->space(dir);
  }
  Result<std::uint64_t> file_size(const std::filesystem::path& path) override {
    return real_->file_size(path);
  }
  Result<void> create_directories(const std::filesystem::path& dir) override {
    return real_->create_directories(dir);
  }
  Result<std::string> read_file(const std::filesystem::path& path) override {
    return real_->read_file(path);
  }
  Result<void> write_file_atomic(const std::filesystem::path& path,
                                 std::string_view contents) override {
    return real_->write_file_atomic(path, contents);
  }

 private:
  void remember(int fd, const std::filesystem::path& path, bool direct) {
    std::lock_guard lock(mutex_);
    files_[fd] = {path, direct};
  }

  std::shared_ptr<transfer::FileSystem> real_;
  std::mutex mutex_;
  std::map<int, std::pair<std::filesystem::path, bool>> files_;  // fd -> path, O_DIRECT
  std::map<std::filesystem::path, std::vector<std::pair<std::uint64_t, std::uint64_t>>>
      direct_written_;  // guarded by mutex_
};

}  // namespace haul::testing
