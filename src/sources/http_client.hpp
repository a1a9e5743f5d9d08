// A small blocking HTTP client for resolvers: API calls and HEAD probes of
// Hugging Face, CivitAI and S3 (JSON and XML answers, never file bodies).
// Redirects are not followed: resolvers read Location themselves, so a
// token never follows a redirect to another host.
//
// Threading: blocks the calling thread; call it off the daemon's control
// thread (the scheduler's resolver thread, or the CLI's main thread).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "sources/plan.hpp"

namespace haul::sources {

struct HttpRequest {
  std::string method = "GET";  // GET or HEAD
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::optional<AwsSigning> aws;     // sign with CURLOPT_AWS_SIGV4
  std::chrono::milliseconds timeout{30'000};
  std::size_t max_body = 32u << 20;  // larger answers fail with kProtocol
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in order
  std::string body;
  // The first value of a header (name in any case), if present.
  std::optional<std::string> header(std::string_view name) const;
};

// Performs one request. Errors (no HTTP answer at all): kUnavailable for
// connection failures and timeouts, with the URL (query redacted) and curl's
// reason. Any HTTP status, 4xx and 5xx included, is a response, not an error.
Result<HttpResponse> http_fetch(const HttpRequest& request);

// The User-Agent of every request haul makes.
std::string user_agent();

}  // namespace haul::sources
