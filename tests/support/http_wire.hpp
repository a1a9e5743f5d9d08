// HTTP/1.1 wire helpers for the test HTTP server: request-head parsing, Range
// and If-Range interpretation, response-head formatting. Pure functions, no
// I/O; internal to tests/support (tests include test_http_server.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace haul::testing::detail {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// A request as read from the socket.
struct ParsedRequest {
  std::string method;
  std::string path;   // request-target path (absolute-form targets reduced to their path)
  std::string query;  // without '?'
  bool absolute_form = false;
  bool http10 = false;                         // "HTTP/1.0" request line
  std::map<std::string, std::string> headers;  // lower-cased names; repeats joined with ", "
  std::string body;

  // Value of header `lower_name`, or "" when absent.
  std::string header(std::string_view lower_name) const;
  // True when the client asked not to keep the connection open afterwards.
  bool wants_close() const;
};

// Parses a request head: the request line and header lines, without the
// terminating blank line. nullopt when the head is not valid HTTP/1.x.
std::optional<ParsedRequest> parse_request_head(std::string_view head);

// Inclusive byte positions of a satisfiable single range.
struct ByteSpan {
  std::size_t first = 0;
  std::size_t last = 0;
  std::size_t size() const { return last - first + 1; }
};

enum class RangeKind {
  kIgnore,         // absent, malformed or multi-range: answer 200 with the full body
  kSatisfiable,    // answer 206 with `span`
  kUnsatisfiable,  // answer 416
};

struct RangeAnswer {
  RangeKind kind = RangeKind::kIgnore;
  ByteSpan span;
};

// Interprets a Range header value ("bytes=a-b", "bytes=a-", "bytes=-n")
// against a representation of `length` bytes.
RangeAnswer parse_range(std::string_view value, std::size_t length);

// True when an If-Range value names the current version: a strong ETag equal
// to `etag`, or an HTTP date equal to `last_modified`. Weak ETags never match.
bool if_range_matches(std::string_view if_range, std::string_view etag,
                      std::string_view last_modified);

// IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT".
std::string http_date(std::chrono::system_clock::time_point when);

// Strong ETag derived from the bytes of `body`, quotes included.
std::string strong_etag(std::string_view body);

// Standard reason phrase, "Unknown" for codes the server never expects to send.
std::string_view reason_phrase(int status);

// "HTTP/1.1 <status> <reason>\r\n" + headers + "\r\n".
std::string format_response_head(int status, const HeaderList& headers);

// True when `headers` contain `name` (case-insensitive).
bool has_header(const HeaderList& headers, std::string_view name);

std::string to_lower(std::string_view text);

}  // namespace haul::testing::detail
