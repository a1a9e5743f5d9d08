#include "cli/worker_command.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/job_commands.hpp"

namespace haul::cli {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

fs::path data_dir_of(const WorkerOptions& options) { return data_dir_or_default(options.data_dir); }

// The live daemon's pid from the pid file, or 0.
pid_t running_pid(const fs::path& data_dir) {
  const PidFileState state = read_pid_file(data_dir);
  return state.alive ? static_cast<pid_t>(state.pid) : 0;
}

std::string tail_of(const fs::path& file, std::size_t lines) {
  std::ifstream in(file);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::string out;
  for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
    out += "  " + all[i] + "\n";
  return out;
}

}  // namespace

fs::path data_dir_or_default(const std::string& given) {
  if (!given.empty()) return fs::absolute(given);
  const char* env = std::getenv("HAUL_DATA_DIR");
  return fs::absolute(env != nullptr && *env != '\0' ? env : "data");
}

PidFileState read_pid_file(const fs::path& data_dir) {
  PidFileState state;
  std::ifstream in(data_dir / "haul.pid");
  if (!(in >> state.pid) || state.pid <= 0) return {};
  state.alive = ::kill(static_cast<pid_t>(state.pid), 0) == 0;
  return state;
}

int run_worker_start(const WorkerOptions& options, const std::string& token) {
  const fs::path dir = data_dir_of(options);
  if (pid_t pid = running_pid(dir)) {
    std::printf("haul: the daemon is already running (pid %d)\n", pid);
    return 0;
  }
  std::error_code ec;
  fs::create_directories(dir / "logs", ec);
  const fs::path out = dir / "logs" / "daemon.out";
  std::vector<std::string> args = {"/proc/self/exe", "serve",        "--data-dir", dir.string(),
                                   "--listen",       options.listen, "--quiet"};
  args.insert(args.end(), options.serve_args.begin(), options.serve_args.end());
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  char exe[4096];
  const ssize_t len = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0) {
    std::fprintf(stderr, "haul: cannot find my own executable\n");
    return 1;
  }
  exe[len] = '\0';
  const pid_t child = ::fork();
  if (child == 0) {
    ::setsid();
    const int null_fd = ::open("/dev/null", O_RDONLY);
    const int log_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execv(exe, argv.data());
    ::_exit(127);
  }
  DaemonClient client(resolve_address("http://" + options.listen, token));
  for (int i = 0; i < 150; ++i) {
    std::this_thread::sleep_for(100ms);
    int status = 0;
    if (::waitpid(child, &status, WNOHANG) == child) {
      std::fprintf(stderr, "haul: the daemon exited at start; its last words (%s):\n%s",
                   out.c_str(), tail_of(out, 5).c_str());
      return 1;
    }
    auto reply = client.request("GET", "/healthz");
    if (reply && reply->status == 200) {
      std::printf("haul: daemon started (pid %d) on http://%s, data in %s\n", child,
                  options.listen.c_str(), dir.c_str());
      return 0;
    }
  }
  std::fprintf(stderr, "haul: the daemon (pid %d) did not answer within 15 s; see %s\n", child,
               out.c_str());
  return 1;
}

int run_worker_stop(const WorkerOptions& options, const std::string& token) {
  const fs::path dir = data_dir_of(options);
  const pid_t pid = running_pid(dir);
  if (pid == 0) {
    std::printf("haul: no daemon is running for %s\n", dir.c_str());
    return 0;
  }
  if (options.force) {
    // As the seed's force_stop: downloads are cancelled, not left to resume.
    DaemonClient client(resolve_address("http://" + options.listen, token));
    (void)run_cancel_all(client);
    // A running job's cancel is answered before its transfers have stopped:
    // wait for them (a little), or SIGTERM would leave them queued instead.
    const auto settle = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < settle) {
      auto running = client.call("GET", "/api/v1/jobs?state=running&limit=0");
      if (!running || running->find("\"count\":0") != std::string::npos) break;
      std::this_thread::sleep_for(50ms);
    }
  }
  ::kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + (options.force ? 10s : 30s);
  while (std::chrono::steady_clock::now() < deadline) {
    if (::kill(pid, 0) != 0) {
      std::printf("haul: daemon stopped (pid %d)\n", pid);
      return 0;
    }
    std::this_thread::sleep_for(100ms);
  }
  if (options.force) {
    ::kill(pid, SIGKILL);
    std::printf("haul: daemon killed (pid %d)\n", pid);
    return 0;
  }
  std::fprintf(stderr,
               "haul: the daemon (pid %d) is still stopping; 'haul worker stop --force' kills it\n",
               pid);
  return 1;
}

}  // namespace haul::cli
