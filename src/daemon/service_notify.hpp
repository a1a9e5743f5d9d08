// Reports `haul serve`'s state to systemd when it runs as a Type=notify
// service (sd_notify(3)): READY=1 once it listens, STATUS=..., STOPPING=1.
// Outside systemd ($NOTIFY_SOCKET unset) every call does nothing.
#pragma once

#include <string_view>

#include "base/error.hpp"

namespace haul::daemon {

// Sends `state`, newline-separated VAR=value assignments such as
// "READY=1\nSTATUS=Serving on http://127.0.0.1:5000", as one datagram to the
// AF_UNIX socket named by $NOTIFY_SOCKET (a path, or "@name" for an abstract
// socket). Returns true when sent, false when $NOTIFY_SOCKET is unset or empty.
// Errors: kInvalidArgument for an address that is not a path or "@name" or is
// too long; kIo when the socket cannot be created or the send fails.
// Any thread; blocks only for one local send.
Result<bool> notify_service_manager(std::string_view state);

}  // namespace haul::daemon
