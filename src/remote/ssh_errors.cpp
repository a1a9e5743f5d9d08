// SSH connect failures classified once, here, from libssh's message (libssh
// reports them as text only; the resolver's part is gai_strerror's wording).
#include "remote/ssh_errors.hpp"

#include "base/text.hpp"

namespace haul::remote {

Error connect_failure(std::string_view libssh_message, const std::string& target,
                      const std::string& host, std::chrono::seconds timeout) {
  const std::string text =
      libssh_message.empty() ? "no details from libssh" : std::string(libssh_message);
  const std::string lower = to_lower(text);
  const auto has = [&](std::string_view needle) { return lower.find(needle) != std::string::npos; };
  const std::string prefix = "ssh to " + target + ": ";
  if (has("connection refused"))
    return Error{ErrorCode::kUnavailable, prefix + "connection refused"};
  if (has("timeout") || has("timed out")) {
    return Error{ErrorCode::kUnavailable,
                 prefix + "timed out after " + std::to_string(timeout.count()) + " s"};
  }
  if (has("resolve") || has("name or service not known") || has("no address associated")) {
    // EAI_AGAIN and EAI_FAIL: the resolver could not answer; it may later.
    if (has("temporary failure") || has("try again") || has("non-recoverable")) {
      return Error{ErrorCode::kUnavailable,
                   prefix + "cannot resolve the host name '" + host + "' for now (" + text + ")"};
    }
    return Error{ErrorCode::kNotFound, prefix + "the host name '" + host + "' does not resolve (" +
                                           text + "): check the instance's address"};
  }
  return Error{ErrorCode::kUnavailable, prefix + text};
}

}  // namespace haul::remote
