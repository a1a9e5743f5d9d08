#include "harness.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "net/sha256.hpp"

namespace haul::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "haul-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) std::abort();
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string random_bytes(std::size_t size, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string data(size, '\0');
  std::size_t i = 0;
  for (; i + 4 <= size; i += 4) {
    const std::uint32_t value = rng();
    std::memcpy(data.data() + i, &value, 4);
  }
  for (; i < size; ++i) data[i] = static_cast<char>(rng());
  return data;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void write_file(const fs::path& path, const std::string& contents) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
}

std::string sha256_of(const std::string& data) { return net::sha256_hex(data); }

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(every);
  }
  return done();
}

HaulProcess::HaulProcess(std::vector<std::string> args, std::vector<std::string> env,
                         std::string binary, std::filesystem::path cwd) {
  started_ = std::chrono::steady_clock::now();
  const std::string out_path = (io_.path() / "stdout").string();
  const std::string err_path = (io_.path() / "stderr").string();
  // Everything the child needs is built before fork(): only async-signal-safe
  // calls may follow it in a multi-threaded process.
  std::vector<char*> argv{binary.data()};
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> environment;
  auto overridden = [&env](std::string_view entry) {
    const std::string_view name = entry.substr(0, entry.find('='));
    return std::any_of(env.begin(), env.end(),
                       [&](const std::string& e) { return e.substr(0, e.find('=')) == name; });
  };
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (!overridden(*entry)) environment.emplace_back(*entry);
  }
  for (std::string& entry : env) environment.push_back(std::move(entry));
  std::vector<char*> envp;
  for (std::string& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    ::execve(binary.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
}

HaulProcess::~HaulProcess() {
  if (!outcome_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void HaulProcess::signal(int sig) {
  if (pid_ > 0 && !outcome_) ::kill(pid_, sig);
}

std::string HaulProcess::stderr_so_far() const { return read_file(io_.path() / "stderr"); }

std::string HaulProcess::stdout_so_far() const { return read_file(io_.path() / "stdout"); }

bool HaulProcess::exited() {
  if (outcome_) return true;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
  Outcome outcome;
  if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
  outcome.out = read_file(io_.path() / "stdout");
  outcome.err = read_file(io_.path() / "stderr");
  outcome_ = outcome;
  return true;
}

HaulProcess::Outcome HaulProcess::wait(std::chrono::milliseconds timeout) {
  if (outcome_) return *outcome_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "haul did not exit within " << timeout.count() << " ms; killing it";
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Outcome outcome;
  outcome.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started_);
  if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
  outcome.out = read_file(io_.path() / "stdout");
  outcome.err = read_file(io_.path() / "stderr");
  outcome_ = outcome;
  return outcome;
}

HaulProcess::Outcome run_haul(std::vector<std::string> args, std::vector<std::string> env) {
  HaulProcess process(std::move(args), std::move(env));
  return process.wait();
}

HaulProcess::Outcome run_haul_in(const std::filesystem::path& cwd, std::vector<std::string> args,
                                 std::vector<std::string> env) {
  HaulProcess process(std::move(args), std::move(env), HAUL_BINARY, cwd);
  return process.wait();
}

transfer::RetryPolicy fast_retries(int max_attempts) {
  transfer::RetryPolicy policy;
  policy.max_attempts = max_attempts;
  policy.backoff = BackoffPolicy{Millis(50), 2.0, Millis(400), 0.2};
  policy.stall_timeout = std::chrono::seconds(2);
  policy.connect_timeout = std::chrono::seconds(2);
  return policy;
}

EngineHarness::EngineHarness(transfer::EngineOptions options) {
  auto engine = transfer::Engine::create(std::move(options), *this);
  if (!engine) std::abort();
  engine_ = std::move(*engine);
}

EngineHarness::~EngineHarness() { engine_.reset(); }

transfer::TransferId EngineHarness::start(transfer::TransferRequest request) {
  auto id = engine_->start(std::move(request));
  EXPECT_TRUE(id.has_value()) << (id ? "" : id.error().message);
  return id.value_or(0);
}

Result<transfer::TransferResult> EngineHarness::wait(transfer::TransferId id,
                                                     std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [&] { return results_.count(id) != 0; })) {
    return fail(ErrorCode::kInternal, "test timed out waiting for transfer " + std::to_string(id));
  }
  return results_.at(id);
}

bool EngineHarness::wait_for_bytes(transfer::TransferId id, std::uint64_t bytes,
                                   std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    if (results_.count(id) != 0) return true;
    auto it = progress_.find(id);
    return it != progress_.end() && !it->second.empty() && it->second.back().bytes_done >= bytes;
  }) && results_.count(id) == 0;
}

std::vector<transfer::TransferProgress> EngineHarness::progress(transfer::TransferId id) const {
  std::lock_guard lock(mutex_);
  auto it = progress_.find(id);
  return it == progress_.end() ? std::vector<transfer::TransferProgress>{} : it->second;
}

void EngineHarness::on_progress(const transfer::TransferProgress& progress) {
  {
    std::lock_guard lock(mutex_);
    progress_[progress.id].push_back(progress);
  }
  changed_.notify_all();
}

void EngineHarness::on_finished(transfer::TransferId id,
                                const Result<transfer::TransferResult>& result) {
  {
    std::lock_guard lock(mutex_);
    results_.emplace(id, result);
  }
  changed_.notify_all();
}

}  // namespace haul::testing
