// Error values and Result<T>: how every haul module reports failure.
// Exceptions never cross a module boundary; a failure is an Error{code, message}
// whose message is one line a user can act on.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>

namespace haul {

// Broad classes of failure. Callers branch on the code; people read the message.
enum class ErrorCode {
  kInvalidArgument,     // bad input from a user or a caller: never retried
  kNotFound,            // the remote or local thing does not exist (HTTP 404/410)
  kPermissionDenied,    // refused: HTTP 401/403, EACCES
  kUnavailable,         // transient: connection refused/reset, 5xx, 429, stalls
  kProtocol,            // the peer broke HTTP's rules (bad Content-Range, short body)
  kDataLoss,            // content did not verify (SHA-256 or size mismatch)
  kNoSpace,             // the destination filesystem is full
  kIo,                  // any other local filesystem failure
  kCancelled,           // stopped on request (Ctrl-C, cancel)
  kConflict,            // not possible in the current state (pause a finished job)
  kFailedPrecondition,  // cannot work as things are set up (HF_HUB_OFFLINE): never retried
  kCommandFailed,       // a command on an instance failed (its exit status, the tool's reason)
  kInternal,            // a bug in haul
};

// Stable lower_snake name of a code ("no_space"), used in JSON output.
std::string_view error_code_name(ErrorCode code);

struct [[nodiscard]] Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // HTTP status that caused the error, 0 when none did.
  int http_status = 0;
  // How long the server asked us to wait (Retry-After); zero when it did not.
  std::chrono::milliseconds retry_after{0};
};

template <class T>
using Result = tl::expected<T, Error>;

// Shorthand for returning a failure from a function that returns Result<T>.
inline tl::unexpected<Error> fail(ErrorCode code, std::string message, int http_status = 0) {
  return tl::unexpected<Error>(Error{code, std::move(message), http_status});
}

inline tl::unexpected<Error> fail(Error error) { return tl::unexpected<Error>(std::move(error)); }

}  // namespace haul
