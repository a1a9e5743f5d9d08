#include "support/socket_channel.hpp"

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace haul::testing::detail {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    reset(other.release());
  }
  return *this;
}

int UniqueFd::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = fd;
}

UniqueFd open_listener(const std::string& address, int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return fd;
  }
  const int yes = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) {
    errno = EINVAL;
    return {};
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd.get(), SOMAXCONN) != 0) {
    const int saved = errno;
    fd.reset();
    errno = saved;
  }
  return fd;
}

int local_port(int fd) {
  sockaddr_in addr{};
  socklen_t size = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) != 0) {
    return -1;
  }
  return ntohs(addr.sin_port);
}

Channel::Channel(UniqueFd fd, int stop_fd) : fd_(std::move(fd)), stop_fd_(stop_fd) {
  // Headers and bodies go out in separate writes; do not let Nagle delay them.
  const int yes = 1;
  ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
}

std::optional<std::string> Channel::read_head() {
  constexpr std::string_view kEnd = "\r\n\r\n";
  while (true) {
    const auto end = in_.find(kEnd);
    if (end != std::string::npos) {
      std::string head = in_.substr(0, end);
      in_.erase(0, end + kEnd.size());
      return head;
    }
    if (in_.size() > kMaxHeadBytes) {
      head_too_large_ = true;
      return std::nullopt;
    }
    if (!receive_more()) {
      return std::nullopt;
    }
  }
}

std::optional<std::string> Channel::read_bytes(std::size_t size) {
  while (in_.size() < size) {
    if (!receive_more()) {
      return std::nullopt;
    }
  }
  std::string bytes = in_.substr(0, size);
  in_.erase(0, size);
  return bytes;
}

bool Channel::send_all(std::string_view data) {
  // Checked per call so a fast reader cannot keep a big response going after stop.
  if (wait(0, 0) == Wake::kStopped) {
    return false;
  }
  while (!data.empty()) {
    const auto sent = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
    if (sent >= 0) {
      data.remove_prefix(static_cast<std::size_t>(sent));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (wait(POLLOUT, -1) != Wake::kFd) {
        return false;
      }
    } else if (errno != EINTR) {
      return false;
    }
  }
  return true;
}

bool Channel::pause(std::chrono::steady_clock::duration duration) {
  using std::chrono::steady_clock;
  const auto deadline = steady_clock::now() + duration;
  while (true) {
    const auto left = deadline - steady_clock::now();
    if (left <= steady_clock::duration::zero()) {
      return true;
    }
    const auto left_ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    // POLLRDHUP (not POLLIN): a pipelined next request must not end the pause.
    if (wait(POLLRDHUP, static_cast<int>(left_ms)) != Wake::kTimeout) {
      return false;
    }
  }
}

void Channel::wait_until_gone() { wait(POLLRDHUP, -1); }

bool Channel::wait_acknowledged(std::chrono::steady_clock::duration limit) {
  constexpr auto kPoll = std::chrono::milliseconds(1);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int unacknowledged = 0;
    if (::ioctl(fd_.get(), SIOCOUTQ, &unacknowledged) != 0) {
      return false;
    }
    if (unacknowledged == 0) {
      return true;
    }
    if (!pause(kPoll)) {
      return false;
    }
  }
  return false;
}

void Channel::reset() {
  const linger abort_on_close{1, 0};
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  fd_.reset();
}

void Channel::close() {
  ::shutdown(fd_.get(), SHUT_WR);
  fd_.reset();
}

Channel::Wake Channel::wait(short events, int timeout_ms) const {
  std::array<pollfd, 2> fds{{{fd_.get(), events, 0}, {stop_fd_, POLLIN, 0}}};
  int ready = 0;
  do {
    ready = ::poll(fds.data(), fds.size(), timeout_ms);
  } while (ready < 0 && errno == EINTR);
  if (ready < 0 || fds[1].revents != 0) {
    return Wake::kStopped;  // a failing poll would otherwise spin; treat it as stop
  }
  return fds[0].revents != 0 ? Wake::kFd : Wake::kTimeout;
}

bool Channel::receive_more() {
  std::array<char, std::size_t{16} * 1024> buffer{};
  while (true) {
    const auto received = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
    if (received > 0) {
      in_.append(buffer.data(), static_cast<std::size_t>(received));
      return true;
    }
    if (received == 0) {
      return false;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (wait(POLLIN, -1) != Wake::kFd) {
        return false;
      }
    } else if (errno != EINTR) {
      return false;
    }
  }
}

}  // namespace haul::testing::detail
