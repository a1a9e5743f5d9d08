// Shared helpers for integration tests: temporary directories, test data,
// running the haul binary, and a synchronous wrapper around the engine.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "transfer/engine.hpp"

namespace haul::testing {

// A fresh directory under /tmp, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Deterministic pseudo-random bytes.
std::string random_bytes(std::size_t size, std::uint32_t seed);
std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::string& contents);
std::string sha256_of(const std::string& data);
bool contains(const std::string& haystack, const std::string& needle);
// The non-empty lines of `text`.
std::vector<std::string> lines_of(const std::string& text);
// Polls `done` every `every` until it holds or `timeout` passes; the last
// answer of `done` is the result.
bool eventually(const std::function<bool()>& done,
                std::chrono::milliseconds timeout = std::chrono::seconds(20),
                std::chrono::milliseconds every = std::chrono::milliseconds(10));

// The haul binary under test, started with stdout/stderr captured in files.
class HaulProcess {
 public:
  struct Outcome {
    int exit_code = -1;  // -1 when killed by a signal
    int signal = 0;
    std::string out;
    std::string err;
    std::chrono::milliseconds elapsed{0};
  };

  // `env` entries ("NAME=value") are added to this process's environment.
  // `binary` defaults to the haul binary under test; `cwd` (default: the
  // test's own) is its working directory, for relative paths.
  explicit HaulProcess(std::vector<std::string> args, std::vector<std::string> env = {},
                       std::string binary = HAUL_BINARY, std::filesystem::path cwd = {});
  ~HaulProcess();
  HaulProcess(const HaulProcess&) = delete;
  HaulProcess& operator=(const HaulProcess&) = delete;

  void signal(int sig);
  // Waits for exit (killing the process after `timeout`).
  Outcome wait(std::chrono::milliseconds timeout = std::chrono::seconds(90));
  std::string stderr_so_far() const;
  std::string stdout_so_far() const;
  // True once the process has ended (reaps it).
  bool exited();

 private:
  TempDir io_;
  pid_t pid_ = -1;
  std::chrono::steady_clock::time_point started_;
  std::optional<Outcome> outcome_;
};

// Runs haul to completion.
HaulProcess::Outcome run_haul(std::vector<std::string> args, std::vector<std::string> env = {});
// The same in working directory `cwd`, as a user typing relative paths does.
HaulProcess::Outcome run_haul_in(const std::filesystem::path& cwd, std::vector<std::string> args,
                                 std::vector<std::string> env = {});

// Retry settings that keep fault tests fast.
transfer::RetryPolicy fast_retries(int max_attempts = 5);

// Starts transfers on a real engine and waits for them, recording progress.
class EngineHarness final : public transfer::TransferObserver {
 public:
  explicit EngineHarness(transfer::EngineOptions options = {});
  ~EngineHarness() override;

  transfer::TransferId start(transfer::TransferRequest request);
  Result<transfer::TransferResult> wait(
      transfer::TransferId id, std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Waits until the transfer has at least `bytes` done; false on timeout or finish.
  bool wait_for_bytes(transfer::TransferId id, std::uint64_t bytes,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  std::vector<transfer::TransferProgress> progress(transfer::TransferId id) const;
  transfer::Engine& engine() { return *engine_; }

  void on_progress(const transfer::TransferProgress& progress) override;
  void on_finished(transfer::TransferId id,
                   const Result<transfer::TransferResult>& result) override;

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<transfer::TransferId, std::vector<transfer::TransferProgress>>
      progress_;                                                              // guarded by mutex_
  std::map<transfer::TransferId, Result<transfer::TransferResult>> results_;  // guarded by mutex_
  std::unique_ptr<transfer::Engine> engine_;
};

}  // namespace haul::testing
