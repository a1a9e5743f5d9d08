// HTTP response heads as libcurl hands them over (one line per callback), and
// the pure parsers for the header values the engine relies on. Bytes in,
// values out: every function here is fuzzed (tests/fuzz).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace haul::net {

struct ResponseHead {
  int status = 0;
  std::string reason;  // from the status line, or a standard phrase (HTTP/2 has none)
  // Header names are lower-cased; values are trimmed. Order as received.
  std::vector<std::pair<std::string, std::string>> headers;

  // Value of the last header called `lower_name`, if any.
  std::optional<std::string_view> get(std::string_view lower_name) const;
  // "404 Not Found"
  std::string status_text() const;
};

// Accumulates header lines. A new status line starts a new head, so interim
// responses (100 Continue, a proxy's CONNECT answer) are dropped.
class ResponseHeadBuilder {
 public:
  void add_line(std::string_view line);
  void reset() {
    head_ = {};
    complete_ = false;
  }
  const ResponseHead& head() const { return head_; }
  // True once the blank line that ends the head has been seen.
  bool complete() const { return complete_; }

 private:
  ResponseHead head_;
  bool complete_ = false;
};

// Standard reason phrase of a status code, "" for unknown codes.
std::string_view reason_phrase(int status);

// Content-Range of a 206 or 416: "bytes 0-499/1234", "bytes 0-499/*", "bytes */1234".
struct ContentRange {
  std::optional<std::uint64_t> first;  // absent for "bytes */N"
  std::optional<std::uint64_t> last;   // inclusive
  std::optional<std::uint64_t> complete_length;
};
std::optional<ContentRange> parse_content_range(std::string_view value);

// A non-negative decimal that fits in 64 bits, surrounded by optional spaces.
std::optional<std::uint64_t> parse_decimal(std::string_view value);

// IMF-fixdate, RFC 850 and asctime forms (RFC 9110 section 5.6.7).
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view value);

// Retry-After as delta-seconds or an HTTP-date relative to `now`; never negative.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

}  // namespace haul::net
