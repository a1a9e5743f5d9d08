// What a failed SSH connect means, as a haul Error: libssh's message for a
// failed ssh_connect turned into one line naming user@host:port, with a code
// the scheduler can act on. Permanent failures fail a job at once
// (kNotFound: the host name does not exist); transient ones are retried
// (kUnavailable: refused, timed out, unreachable, a resolver that is down).
// Host-key and authentication refusals are kPermissionDenied and are decided
// in ssh_session.cpp, after the connection is up.
//
// Threading: pure function.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace haul::remote {

// `libssh_message`: ssh_get_error() after ssh_connect failed; `target`:
// "user@host:port"; `host`: the host name as given (or from ~/.ssh/config);
// `timeout`: the connect timeout, for the message.
//   "Connection refused"                   -> kUnavailable "... connection refused"
//   "Timeout connecting to ..."            -> kUnavailable "... timed out after N s"
//   "Failed to resolve hostname h (Name or service not known)", or "No address
//   associated with hostname"              -> kNotFound "... host name 'h' does not resolve (...)"
//   a resolver failure that may pass ("Temporary failure in name
//   resolution", "Non-recoverable failure") -> kUnavailable "... cannot resolve ..."
//   anything else                          -> kUnavailable with libssh's words
Error connect_failure(std::string_view libssh_message, const std::string& target,
                      const std::string& host, std::chrono::seconds timeout);

}  // namespace haul::remote
