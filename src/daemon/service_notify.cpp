#include "daemon/service_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace haul::daemon {

// The sd_notify datagram protocol is written here rather than linked from
// libsystemd: it is a stable, documented single sendto(), so readiness works
// in every build (and under any notify-socket listener) with no extra
// dependency.
Result<bool> notify_service_manager(std::string_view state) {
  const char* env = std::getenv("NOTIFY_SOCKET");
  if (env == nullptr || *env == '\0') return false;
  const std::string_view address(env);
  if (address.front() != '/' && address.front() != '@') {
    return fail(ErrorCode::kInvalidArgument,
                "NOTIFY_SOCKET '" + std::string(address) + "': expected a path or @name");
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (address.size() >= sizeof addr.sun_path) {
    return fail(ErrorCode::kInvalidArgument, "NOTIFY_SOCKET is too long for a unix socket");
  }
  std::memcpy(addr.sun_path, address.data(), address.size());
  // A path carries its terminating NUL; an abstract name (leading NUL in
  // place of '@') is exactly its bytes, as systemd binds it.
  socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
  if (address.front() == '@') {
    addr.sun_path[0] = '\0';
  } else {
    ++length;
  }

  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return fail(ErrorCode::kIo, std::string("notify socket: ") + std::strerror(errno));
  }
  const ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&addr), length);
  const int error = errno;
  ::close(fd);
  if (sent < 0 || static_cast<std::size_t>(sent) != state.size()) {
    return fail(ErrorCode::kIo, "notify " + std::string(address) + ": " +
                                    (sent < 0 ? std::strerror(error) : "short send"));
  }
  return true;
}

}  // namespace haul::daemon
