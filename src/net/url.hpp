// URL parsing for the engine: validation of user input, the origin that
// scopes credentials, redirect resolution and a redacted form for messages.
// Thin wrapper over libcurl's URL API; no network I/O.
#pragma once

#include <string>
#include <string_view>

#include "base/error.hpp"

namespace haul::net {

struct Url {
  std::string text;    // normalised full URL
  std::string scheme;  // "http" or "https"
  std::string host;    // lower-case
  int port = 0;        // explicit or the scheme's default
  std::string path;    // "/a/b.bin"

  // scheme://host:port, what headers and credentials are scoped to.
  std::string origin() const;
};

// Accepts absolute http(s) URLs only. Errors: kInvalidArgument
// "invalid URL 'x': <why>" with any password or query string redacted.
Result<Url> parse_url(std::string_view text);

// Resolves a Location header against the URL it came from.
Result<Url> resolve_location(const Url& base, std::string_view location);

// The URL without credentials and without the query string, for messages and
// logs: signed URLs carry secrets in their query.
std::string redact_url(std::string_view text);

// The URL as a user may see it again (API responses): the password of any
// user:password@ and the values of query parameters that look like secrets
// (token, key, signature, X-Amz-*, ...) become "REDACTED"; the rest stays,
// so "?modelVersionId=1900322" is still readable.
std::string redact_secrets(std::string_view text);

// Percent-encodes everything but RFC 3986's unreserved characters
// (A-Z a-z 0-9 - . _ ~), for a query value or a path segment.
std::string percent_encode(std::string_view text);

}  // namespace haul::net
