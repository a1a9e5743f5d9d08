// The test sshd: keys and config written with ssh-keygen and plain files,
// sshd started with posix_spawn and stopped together with everything it
// forked (found through /proc, because sshd puts each connection in a session
// of its own, so a process-group kill would miss them).
#include "support/test_sshd.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include "support/child_process.hpp"

extern char** environ;

namespace haul::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kWho = "TestSshd";
constexpr const char* kSshd = "/usr/sbin/sshd";  // sshd insists on an absolute path

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Runs argv[0] (searched in PATH) to completion; returns its output. Throws
// when it cannot start or, unless `exit_code` takes the code, exits non-zero.
std::string run_tool(const std::vector<std::string>& args, int* exit_code = nullptr) {
  if (exit_code == nullptr) return run_tool_or_throw(kWho, args);
  ToolOutput ran = haul::testing::run_tool(kWho, args);
  *exit_code = ran.exit_code;
  return std::move(ran.output);
}

void generate_key(const fs::path& path) {
  fs::remove(path);
  fs::remove(fs::path(path.string() + ".pub"));
  run_tool({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "haul-test", "-f", path.string()});
}

bool port_accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// Every live descendant of `root`, read from /proc/<pid>/stat (ppid is the
// second field after the parenthesised command name).
std::vector<pid_t> descendants(pid_t root) {
  std::multimap<pid_t, pid_t> children;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = read_file(entry.path() / "stat");
    const auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(close_paren + 1));
    char state = 0;
    pid_t ppid = 0;
    fields >> state >> ppid;
    children.emplace(ppid, static_cast<pid_t>(std::stol(name)));
  }
  std::vector<pid_t> result;
  std::vector<pid_t> frontier{root};
  while (!frontier.empty()) {
    const pid_t parent = frontier.back();
    frontier.pop_back();
    auto [begin, end] = children.equal_range(parent);
    for (auto it = begin; it != end; ++it) {
      result.push_back(it->second);
      frontier.push_back(it->second);
    }
  }
  return result;
}

// Processes whose environment holds `entry` ("NAME=value").
std::vector<pid_t> processes_with_env(const std::string& entry) {
  std::vector<pid_t> result;
  std::error_code ec;
  for (const auto& proc : fs::directory_iterator("/proc", ec)) {
    const std::string name = proc.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string environ_text = read_file(proc.path() / "environ");
    std::size_t start = 0;
    while (start < environ_text.size()) {
      std::size_t end = environ_text.find('\0', start);
      if (end == std::string::npos) end = environ_text.size();
      if (environ_text.compare(start, end - start, entry) == 0) {
        result.push_back(static_cast<pid_t>(std::stol(name)));
        break;
      }
      start = end + 1;
    }
  }
  return result;
}

}  // namespace

TestSshd::TestSshd() {
  std::error_code ec;
  fs::create_directories("/run/sshd", ec);
  ::chmod("/run/sshd", 0755);

  std::string templ = (fs::temp_directory_path() / "haul-sshd-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) {
    throw std::runtime_error(std::string("TestSshd: mkdtemp: ") + std::strerror(errno));
  }
  dir_ = templ;
  const passwd* pw = ::getpwuid(::geteuid());
  user_ = pw != nullptr ? pw->pw_name : "root";

  try {
    generate_key(dir_ / "host_ed25519");
    generate_key(dir_ / "client_ed25519");
    fs::copy_file(dir_ / "client_ed25519.pub", dir_ / "authorized_keys");
    std::ofstream(dir_ / "known_hosts").flush();
    fs::create_directories(dir_ / "home");

    // A port found free can be taken before sshd binds it; try a few.
    for (int attempt = 0;; ++attempt) {
      port_ = find_free_port(kWho);
      write_config(true);
      int code = 0;
      run_tool({kSshd, "-t", "-f", (dir_ / "sshd_config").string()}, &code);
      if (code != 0) {
        // Older sshd without PerSourcePenalties (added in OpenSSH 9.8).
        write_config(false);
        run_tool({kSshd, "-t", "-f", (dir_ / "sshd_config").string()});
      }
      try {
        launch();
        wait_until_accepting();
        break;
      } catch (const std::runtime_error&) {
        stop();
        if (attempt == 4) throw;
      }
    }
  } catch (...) {
    stop();
    fs::remove_all(dir_, ec);
    throw;
  }
}

TestSshd::~TestSshd() {
  try {
    stop();
  } catch (...) {
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

fs::path TestSshd::client_key() const { return dir_ / "client_ed25519"; }

fs::path TestSshd::known_hosts() const { return dir_ / "known_hosts"; }

fs::path TestSshd::home() const { return dir_ / "home"; }

std::string TestSshd::host_key_fingerprint() const {
  // "256 SHA256:abc... haul-test (ED25519)"
  std::istringstream line(
      run_tool({"ssh-keygen", "-l", "-E", "sha256", "-f", (dir_ / "host_ed25519.pub").string()}));
  std::string bits, fingerprint;
  line >> bits >> fingerprint;
  return fingerprint;
}

std::string TestSshd::ssh_command() const {
  return "ssh -p " + std::to_string(port_) + " " + user_ + "@" + host() + " -i " +
         client_key().string();
}

std::string TestSshd::log() const { return read_file(dir_ / "sshd.log"); }

fs::path TestSshd::generate_unauthorised_key(const std::string& name) const {
  fs::path path = dir_ / name;
  generate_key(path);
  return path;
}

void TestSshd::regenerate_host_key() { generate_key(dir_ / "host_ed25519"); }

void TestSshd::write_config(bool with_penalties_off) {
  std::ofstream config(dir_ / "sshd_config", std::ios::trunc);
  config << "ListenAddress 127.0.0.1\n"
         << "Port " << port_ << "\n"
         << "HostKey " << (dir_ / "host_ed25519").string() << "\n"
         << "PidFile " << (dir_ / "sshd.pid").string() << "\n"
         << "AuthorizedKeysFile " << (dir_ / "authorized_keys").string() << "\n"
         << "StrictModes no\n"
         << "UsePAM no\n"
         << "PasswordAuthentication no\n"
         << "KbdInteractiveAuthentication no\n"
         << "PubkeyAuthentication yes\n"
         << "PermitRootLogin prohibit-password\n"
         << "AcceptEnv UI_HOME HF_TOKEN CIVITAI_TOKEN AWS_* HAUL_*\n"
         << "PrintMotd no\n"
         << "PrintLastLog no\n"
         << "MaxStartups 100\n"
         << "MaxSessions 100\n"
         << "LogLevel VERBOSE\n"
         // Sessions get a private, empty HOME: the test user's own shell
         // startup files (which bash sources for every ssh command) neither
         // slow the tests down nor change what they see.
         // The marker lets stop() find session processes that outlived
         // their connection and were re-parented away from sshd.
         << "SetEnv HOME=" << (dir_ / "home").string() << " " << marker_env() << "\n";
  if (with_penalties_off) config << "PerSourcePenalties no\n";
  if (!config) {
    throw std::runtime_error("TestSshd: cannot write " + (dir_ / "sshd_config").string());
  }
}

void TestSshd::launch() {
  const std::string config = (dir_ / "sshd_config").string();
  const std::string log_path = (dir_ / "sshd.log").string();
  log_offset_ = log().size();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<std::string> args{kSshd, "-D", "-e", "-f", config};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const int rc = ::posix_spawn(&pid_, kSshd, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    throw std::runtime_error(std::string("TestSshd: cannot start ") + kSshd + ": " +
                             std::strerror(rc));
  }
}

void TestSshd::wait_until_accepting() {
  const std::string listening = "Server listening on 127.0.0.1 port " + std::to_string(port_) + ".";
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("TestSshd: sshd exited at start: " + log());
    }
    // The log line tells our sshd (not some other process) owns the port.
    if (log().find(listening, log_offset_) != std::string::npos && port_accepts(port_)) return;
    std::this_thread::sleep_for(20ms);
  }
  throw std::runtime_error("TestSshd: sshd did not accept on port " + std::to_string(port_) + ": " +
                           log());
}

std::string TestSshd::marker_env() const { return "HAUL_TEST_SSHD=" + dir_.string(); }

std::vector<pid_t> TestSshd::session_processes() const {
  std::vector<pid_t> result = pid_ > 0 ? descendants(pid_) : std::vector<pid_t>{};
  for (pid_t pid : processes_with_env(marker_env())) {
    if (std::find(result.begin(), result.end(), pid) == result.end()) result.push_back(pid);
  }
  return result;
}

void TestSshd::stop() {
  if (pid_ <= 0) return;
  // Collect before signalling: once the listener dies its children are
  // re-parented and can no longer be found through it.
  const std::vector<pid_t> sessions = session_processes();
  ::kill(pid_, SIGTERM);
  for (pid_t pid : sessions) {
    ::kill(pid, SIGTERM);
    ::kill(pid, SIGCONT);  // a frozen process acts on SIGTERM only once continued
  }
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  pid_ = -1;
  // Whatever ignored SIGTERM (a command trapping it) goes now.
  std::this_thread::sleep_for(50ms);
  for (pid_t pid : sessions) {
    if (::kill(pid, 0) == 0) ::kill(pid, SIGKILL);
  }
}

void TestSshd::freeze_sessions() {
  for (pid_t pid : session_processes()) ::kill(pid, SIGSTOP);
}

void TestSshd::thaw_sessions() {
  for (pid_t pid : session_processes()) ::kill(pid, SIGCONT);
}

void TestSshd::start() {
  if (pid_ > 0) return;
  launch();
  try {
    wait_until_accepting();
  } catch (...) {
    stop();
    throw;
  }
}

}  // namespace haul::testing
