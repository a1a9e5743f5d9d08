// `haul serve` as a systemd service: readiness and stopping reported over
// the sd_notify protocol to a socket the test holds (as systemd would), and
// dist/haul.service checked against systemd and against haul's own options.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <map>
#include <regex>
#include <sstream>

#include "daemon_fixture.hpp"
#include "harness.hpp"

namespace haul::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A bound AF_UNIX datagram socket in place of systemd's notify socket.
class NotifySocket {
 public:
  // `address` is a path, or "@name" for the abstract namespace.
  explicit NotifySocket(std::string address) : address_(std::move(address)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, address_.data(), address_.size());
    if (address_.front() == '@') addr.sun_path[0] = '\0';
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size());
    bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), length) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool bound() const { return bound_; }
  std::string env() const { return "NOTIFY_SOCKET=" + address_; }

  // Reads datagrams until one has the line `assignment` (e.g. "READY=1")
  // and returns that datagram; nothing once `timeout` passes.
  std::optional<std::string> wait_for(const std::string& assignment,
                                      std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd poller{fd_, POLLIN, 0};
      if (::poll(&poller, 1, static_cast<int>(left.count())) != 1) continue;
      char buffer[4096];
      const ssize_t size = ::recv(fd_, buffer, sizeof buffer, 0);
      if (size < 0) continue;
      const std::string datagram(buffer, static_cast<std::size_t>(size));
      received_.push_back(datagram);
      std::istringstream lines(datagram);
      for (std::string line; std::getline(lines, line);) {
        if (line == assignment) return datagram;
      }
    }
  }
  const std::vector<std::string>& received() const { return received_; }

 private:
  std::string address_;
  int fd_ = -1;
  bool bound_ = false;
  std::vector<std::string> received_;
};

std::vector<std::string> serve_args(const TempDir& dir) {
  fs::create_directories(dir / "models");
  return {"serve",
          "--listen",
          "127.0.0.1:0",
          "--data-dir",
          (dir / "data").string(),
          "--models-root",
          (dir / "models").string()};
}

// READY=1 comes with a STATUS naming the address, once it accepts requests;
// SIGTERM brings STOPPING=1 before the clean exit.
void expect_ready_then_stopping(NotifySocket& notify, HaulProcess& haul) {
  const auto ready = notify.wait_for("READY=1", std::chrono::seconds(30));
  ASSERT_TRUE(ready) << "no READY=1; stderr:\n" << haul.stderr_so_far();
  std::smatch match;
  ASSERT_TRUE(std::regex_search(*ready, match, std::regex("STATUS=Serving on (http://\\S+)")))
      << *ready;
  EXPECT_EQ(http_call("GET", std::string(match[1]) + "/healthz").status, 200);
  EXPECT_THAT(haul.stdout_so_far(), HasSubstr("haul: serving on " + std::string(match[1])));

  haul.signal(SIGTERM);
  const auto stopping = notify.wait_for("STOPPING=1", std::chrono::seconds(30));
  EXPECT_TRUE(stopping) << "no STOPPING=1 after " << ::testing::PrintToString(notify.received())
                        << "; stderr:\n"
                        << haul.stderr_so_far();
  const auto outcome = haul.wait(std::chrono::seconds(30));
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
}

TEST(DaemonServiceTest, NotifiesReadyOnceListeningAndStoppingOnSigterm) {
  TempDir dir;
  NotifySocket notify((dir / "notify").string());
  ASSERT_TRUE(notify.bound());
  HaulProcess haul(serve_args(dir), {notify.env()});
  expect_ready_then_stopping(notify, haul);
}

TEST(DaemonServiceTest, NotifiesAnAbstractSocket) {
  TempDir dir;
  NotifySocket notify("@haul-daemon-test-" + dir.path().filename().string());
  ASSERT_TRUE(notify.bound());
  HaulProcess haul(serve_args(dir), {notify.env()});
  expect_ready_then_stopping(notify, haul);
}

TEST(DaemonServiceTest, ServesWhenTheNotifySocketIsGone) {
  TempDir dir;
  HaulProcess haul(serve_args(dir), {"NOTIFY_SOCKET=" + (dir / "nobody").string()});
  ASSERT_TRUE(eventually([&] { return contains(haul.stdout_so_far(), "haul: serving on"); },
                         std::chrono::seconds(30)))
      << haul.stderr_so_far();
  EXPECT_TRUE(eventually([&] { return contains(haul.stderr_so_far(), "cannot notify systemd"); }))
      << haul.stderr_so_far();
  haul.signal(SIGTERM);
  EXPECT_EQ(haul.wait(std::chrono::seconds(30)).exit_code, 0);
}

// ---- dist/haul.service ----------------------------------------------------------------

const fs::path kUnit = fs::path(HAUL_SOURCE_DIR) / "dist" / "haul.service";

// KEY -> values of [Service] (and the other sections), continuation lines joined.
std::multimap<std::string, std::string> read_unit(const fs::path& path) {
  std::multimap<std::string, std::string> keys;
  std::istringstream in(read_file(path));
  std::string logical;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\\') {
      logical += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    logical += line;
    const std::size_t equals = logical.find('=');
    if (!logical.empty() && logical[0] != '#' && logical[0] != '[' && equals != std::string::npos) {
      keys.emplace(logical.substr(0, equals), logical.substr(equals + 1));
    }
    logical.clear();
  }
  return keys;
}

std::string only(const std::multimap<std::string, std::string>& keys, const std::string& key) {
  EXPECT_EQ(keys.count(key), 1u) << key;
  const auto found = keys.find(key);
  return found == keys.end() ? "" : found->second;
}

std::vector<std::string> split_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

TEST(ServiceUnitTest, RunsHaulServeAsANotifyService) {
  const auto unit = read_unit(kUnit);
  EXPECT_EQ(only(unit, "Type"), "notify");
  EXPECT_EQ(only(unit, "Restart"), "on-failure");
  EXPECT_EQ(only(unit, "KillSignal"), "SIGTERM");
  EXPECT_FALSE(only(unit, "TimeoutStopSec").empty());
  EXPECT_EQ(only(unit, "StateDirectory"), "haul");

  const std::vector<std::string> exec = split_words(only(unit, "ExecStart"));
  ASSERT_GE(exec.size(), 2u);
  EXPECT_EQ(exec[0], "/usr/local/bin/haul");
  EXPECT_EQ(exec[1], "serve");
  // Every option it passes is one `haul serve` has; the data dir is the
  // state directory; every models root is writable under ProtectSystem=strict.
  const auto help = run_haul({"serve", "--help"});
  ASSERT_EQ(help.exit_code, 0) << help.err;
  const std::vector<std::string> writable = split_words(only(unit, "ReadWritePaths"));
  for (std::size_t i = 2; i < exec.size(); ++i) {
    if (exec[i].rfind("--", 0) != 0) continue;
    EXPECT_THAT(help.out, HasSubstr(exec[i] + " ")) << "haul serve has no " << exec[i];
    ASSERT_LT(i + 1, exec.size()) << exec[i];
    if (exec[i] == "--data-dir") {
      EXPECT_EQ(exec[i + 1], "/var/lib/haul");
    }
    if (exec[i] == "--models-root") {
      EXPECT_THAT(writable, ::testing::Contains(exec[i + 1])) << "ReadWritePaths";
    }
  }
}

TEST(ServiceUnitTest, PassesSystemdAnalyzeVerify) {
  if (std::system("command -v systemd-analyze >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "systemd-analyze is not installed (Debian package systemd)";
  }
  // The unit as installed names /usr/local/bin/haul; verify wants a binary
  // that exists, so the copy names the one under test.
  TempDir dir;
  std::string text = read_file(kUnit);
  const std::string installed = "/usr/local/bin/haul";
  text.replace(text.find(installed), installed.size(), HAUL_BINARY);
  write_file(dir / "haul.service", text);
  const std::string command =
      "systemd-analyze verify '" + (dir / "haul.service").string() + "' 2>&1";
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  const int status = ::pclose(pipe);
  EXPECT_EQ(status, 0) << out;
  // Unknown keys and bad values are only warnings to verify: none allowed.
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace haul::testing
