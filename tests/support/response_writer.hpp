// Responses of the test HTTP server: a ResponsePlan says what to send
// (status, headers, which body bytes, how fast, which fault to inject) and
// write_response sends it over a Channel. Internal to tests/support.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "support/http_wire.hpp"
#include "support/socket_channel.hpp"

namespace haul::testing::detail {

// How a response deliberately ends early, after `fault_after` payload bytes.
enum class BodyFault {
  kNone,
  kReset,     // TCP RST
  kTruncate,  // clean FIN although the framing promised more
  kStall,     // keep the socket open and send nothing more
};

struct ResponsePlan {
  int status = 200;
  // Everything except the framing headers (Content-Length, Transfer-Encoding,
  // Connection), which write_response adds. Date is added unless present.
  HeaderList headers;
  // The payload is body[offset, offset + length); body may be shared with
  // other in-flight responses, so a content change never alters this one.
  std::shared_ptr<const std::string> body;
  std::size_t offset = 0;
  std::size_t length = 0;
  bool chunked = false;   // Transfer-Encoding: chunked instead of Content-Length
  bool send_body = true;  // false for HEAD: framing headers only
  BodyFault fault = BodyFault::kNone;
  std::size_t fault_after = 0;
  std::size_t rate = 0;  // payload bytes per second; 0 = full speed
  bool close = false;    // "Connection: close" and close after the response

  // A complete in-memory response; `content_type` "" sends no Content-Type.
  static ResponsePlan with_body(int status, std::string body,
                                std::string content_type = "text/plain");
};

// Told +n just before each payload write of n bytes and -n if that write
// fails: a client that has received bytes always finds them counted, and only
// completely written pieces stay counted.
using BodyCounter = std::function<void(std::int64_t delta)>;

// Writes `plan` to `channel`, reporting payload bytes to `count_body`.
// Returns true when the connection may serve another request.
// Thread: the connection thread that owns `channel`.
bool write_response(Channel& channel, const ResponsePlan& plan, const BodyCounter& count_body);

}  // namespace haul::testing::detail
