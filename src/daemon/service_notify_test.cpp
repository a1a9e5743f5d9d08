#include "daemon/service_notify.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

namespace haul::daemon {
namespace {

namespace fs = std::filesystem;

// A bound AF_UNIX datagram socket standing in for systemd's notify socket.
class NotifyListener {
 public:
  // `address` is a path, or "@name" for the abstract namespace.
  explicit NotifyListener(const std::string& address) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, address.data(), address.size());
    socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
    if (address.front() == '@') addr.sun_path[0] = '\0';
    bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), length) == 0;
  }
  ~NotifyListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool bound() const { return bound_; }

  // The next datagram, or nothing once `timeout` passes.
  std::optional<std::string> receive(std::chrono::milliseconds timeout) {
    pollfd poller{fd_, POLLIN, 0};
    if (::poll(&poller, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    char buffer[4096];
    const ssize_t size = ::recv(fd_, buffer, sizeof buffer, 0);
    if (size < 0) return std::nullopt;
    return std::string(buffer, static_cast<std::size_t>(size));
  }

 private:
  int fd_ = -1;
  bool bound_ = false;
};

// Sets NOTIFY_SOCKET for one test and puts the old value back.
class ScopedNotifySocket {
 public:
  explicit ScopedNotifySocket(const std::optional<std::string>& value) {
    if (const char* old = std::getenv("NOTIFY_SOCKET")) old_ = old;
    if (value) {
      ::setenv("NOTIFY_SOCKET", value->c_str(), 1);
    } else {
      ::unsetenv("NOTIFY_SOCKET");
    }
  }
  ~ScopedNotifySocket() {
    if (old_) {
      ::setenv("NOTIFY_SOCKET", old_->c_str(), 1);
    } else {
      ::unsetenv("NOTIFY_SOCKET");
    }
  }

 private:
  std::optional<std::string> old_;
};

class ServiceNotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "haul-notify-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

constexpr std::chrono::seconds kDeadline{10};

TEST_F(ServiceNotifyTest, SendsReadyToThePathSocket) {
  const std::string path = (dir_ / "notify").string();
  NotifyListener listener(path);
  ASSERT_TRUE(listener.bound());
  ScopedNotifySocket env(path);

  auto sent = notify_service_manager("READY=1\nSTATUS=Serving on http://127.0.0.1:5000");
  ASSERT_TRUE(sent) << sent.error().message;
  EXPECT_TRUE(*sent);
  EXPECT_EQ(listener.receive(kDeadline), "READY=1\nSTATUS=Serving on http://127.0.0.1:5000");

  ASSERT_TRUE(notify_service_manager("STOPPING=1"));
  EXPECT_EQ(listener.receive(kDeadline), "STOPPING=1");
}

TEST_F(ServiceNotifyTest, SendsToAnAbstractSocket) {
  const std::string name = "@haul-notify-test-" + std::to_string(::getpid());
  NotifyListener listener(name);
  ASSERT_TRUE(listener.bound());
  ScopedNotifySocket env(name);

  auto sent = notify_service_manager("READY=1");
  ASSERT_TRUE(sent) << sent.error().message;
  EXPECT_TRUE(*sent);
  EXPECT_EQ(listener.receive(kDeadline), "READY=1");
}

TEST_F(ServiceNotifyTest, DoesNothingOutsideSystemd) {
  {
    ScopedNotifySocket env(std::nullopt);
    auto sent = notify_service_manager("READY=1");
    ASSERT_TRUE(sent);
    EXPECT_FALSE(*sent);
  }
  ScopedNotifySocket env(std::string{});
  auto sent = notify_service_manager("READY=1");
  ASSERT_TRUE(sent);
  EXPECT_FALSE(*sent);
}

TEST_F(ServiceNotifyTest, RefusesAnAddressThatIsNotAPathOrAbstractName) {
  ScopedNotifySocket env(std::string("relative/notify"));
  auto sent = notify_service_manager("READY=1");
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(ServiceNotifyTest, RefusesAnAddressTooLongForASocket) {
  ScopedNotifySocket env("/" + std::string(200, 'x'));
  auto sent = notify_service_manager("READY=1");
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(ServiceNotifyTest, ReportsASocketNobodyListensOn) {
  ScopedNotifySocket env((dir_ / "nobody").string());
  auto sent = notify_service_manager("READY=1");
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, ErrorCode::kIo);
  EXPECT_NE(sent.error().message.find("nobody"), std::string::npos) << sent.error().message;
}

}  // namespace
}  // namespace haul::daemon
