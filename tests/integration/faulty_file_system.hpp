// A FileSystem that forwards to the real one but can be told to fail the way
// a full or broken disk does, as leveldb's fault-injection Env does.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

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

  Result<int> open_rw(const std::filesystem::path& path) override { return real_->open_rw(path); }
  Result<int> open_direct(const std::filesystem::path& path) override {
    return real_->open_direct(path);
  }
  Result<void> lock_exclusive(int fd) override { return real_->lock_exclusive(fd); }
  Result<int> open_read(const std::filesystem::path& path) override {
    return real_->open_read(path);
  }
  void close(int fd) override { real_->close(fd); }
  Result<transfer::FileStat> stat(int fd) override { return real_->stat(fd); }
  Result<void> allocate(int fd, std::uint64_t size) override { return real_->allocate(fd, size); }
  Result<void> truncate(int fd, std::uint64_t size) override { return real_->truncate(fd, size); }
  Result<void> write_at(int fd, const std::byte* data, std::size_t size,
                        std::uint64_t offset) override {
    if (bytes_written.load() + size > write_budget.load()) {
      return fail(ErrorCode::kNoSpace, "cannot write: No space left on device");
    }
    bytes_written += size;
    return real_->write_at(fd, data, size, offset);
  }
  Result<std::size_t> read_at(int fd, std::byte* data, std::size_t size,
                              std::uint64_t offset) override {
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
  std::shared_ptr<transfer::FileSystem> real_;
};

}  // namespace haul::testing
