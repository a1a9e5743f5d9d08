// POSIX socket plumbing for the test HTTP server: loopback listeners and a
// per-connection Channel whose every wait also wakes when the server's stop
// pipe becomes readable, so no connection thread outlives server shutdown.
// Internal to tests/support.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace haul::testing::detail {

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release();
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// A non-blocking TCP listener on `address`:`port` (port 0 = any free port).
// Returns an invalid fd with errno set when binding fails.
UniqueFd open_listener(const std::string& address, int port);

// The port a bound socket listens on.
int local_port(int fd);

// One accepted client connection. Used by a single connection thread.
class Channel {
 public:
  static constexpr std::size_t kMaxHeadBytes = std::size_t{64} * 1024;

  // Takes ownership of the non-blocking socket `fd`; `stop_fd` is the read end
  // of the server's stop pipe (borrowed, must outlive the channel).
  Channel(UniqueFd fd, int stop_fd);

  // The next request head up to (excluding) its blank line. nullopt when the
  // peer closed, the server stopped, an error occurred or the head exceeded
  // kMaxHeadBytes (then head_too_large() is true).
  std::optional<std::string> read_head();
  bool head_too_large() const { return head_too_large_; }
  // Exactly `size` further bytes (a request body); nullopt as for read_head.
  std::optional<std::string> read_bytes(std::size_t size);

  // Writes all of `data`; false when the peer is gone or the server stopped.
  bool send_all(std::string_view data);
  // Sleeps for `duration`; false when the server stopped or the peer went
  // away first.
  bool pause(std::chrono::steady_clock::duration duration);
  // Blocks until the server stops or the peer disconnects (a stalled response).
  void wait_until_gone();

  // Waits until the peer's kernel has acknowledged every byte sent so far
  // (Linux SIOCOUTQ), at most `limit`; false when the server stopped, the peer
  // went away or the limit passed. Lets a reset follow the bytes it trails.
  bool wait_acknowledged(std::chrono::steady_clock::duration limit);
  // Aborts the connection with a TCP RST (SO_LINGER 0 + close); unacknowledged
  // bytes are discarded by the kernel.
  void reset();
  // Ends the connection with a FIN after everything sent so far.
  void close();

 private:
  enum class Wake { kFd, kStopped, kTimeout };
  // Polls the socket for `events` and the stop pipe; timeout_ms -1 = forever.
  Wake wait(short events, int timeout_ms) const;
  // Appends whatever the socket delivers next to in_; false on EOF/stop/error.
  bool receive_more();

  UniqueFd fd_;
  int stop_fd_;
  std::string in_;  // received bytes not yet consumed
  bool head_too_large_ = false;
};

}  // namespace haul::testing::detail
