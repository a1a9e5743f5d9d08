// Private to src/remote: RAII owners of libssh objects shared by
// ssh_session.cpp (connect, auth, keepalive) and ssh_run.cpp (commands).
#pragma once

#include <libssh/libssh.h>

#include <memory>
#include <string>

#include "remote/ssh_session.hpp"

namespace haul::remote {

struct SshSession::Handle {
  explicit Handle(ssh_session s) : session(s) {}
  ~Handle() {
    if (ssh_is_connected(session) != 0) ssh_disconnect(session);
    ssh_free(session);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  ssh_session session;
};

struct ChannelDeleter {
  void operator()(ssh_channel_struct* channel) const {
    if (ssh_channel_is_open(channel) != 0) ssh_channel_close(channel);
    ssh_channel_free(channel);
  }
};
using ChannelPtr = std::unique_ptr<ssh_channel_struct, ChannelDeleter>;

// libssh's last error for the session, or `fallback` when it set none (a
// blocking call that hit the session timeout sets none).
inline std::string last_error(ssh_session session,
                              const std::string& fallback = "no details from libssh") {
  const char* text = ssh_get_error(session);
  return text != nullptr && *text != '\0' ? text : fallback;
}

}  // namespace haul::remote
