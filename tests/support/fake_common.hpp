// Shared pieces of the fake Hugging Face, CivitAI and S3 endpoints: serving
// a stored body to GET/HEAD with ranges and validators, URL and query
// coding, digests, and the error documents S3-style storage sends. Internal
// to tests/support; tests include fake_hf.hpp, fake_civitai.hpp, fake_s3.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/test_http_server.hpp"

namespace haul::testing::fake {

using Request = TestHttpServer::Request;
using Response = TestHttpServer::Response;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// A representation to serve.
struct Entity {
  std::string_view body{};      // the full bytes; must outlive serve_entity
  std::string etag{};           // sent verbatim (quotes included); "" = none
  std::string last_modified{};  // IMF-fixdate; "" = none
  std::string content_type = "application/octet-stream";
  HeaderList headers{};  // added to every answer (200, 206, 304, 412, 416)
};

// Answers a GET or HEAD for `entity` the way a compliant origin does:
//  - If-Match naming no current strong ETag ("*" matches any) -> 412, empty body;
//  - If-None-Match naming the current ETag -> 304 with the ETag;
//  - a single "Range: bytes=a-b" / "a-" / "-n" -> 206 + Content-Range, or 416
//    with "Content-Range: bytes */N" when unsatisfiable; ignored (200) when
//    If-Range names neither the current ETag nor Last-Modified;
//  - always Accept-Ranges: bytes.
// HEAD gets the same headers; the server drops the body and keeps its length
// as Content-Length. Callers that want an error document on 412 fill it in.
Response serve_entity(const Request& request, const Entity& entity);

// Value of header `lower_name`, or "" when absent.
std::string header(const Request& request, std::string_view lower_name);
// The token of "Authorization: Bearer <token>"; nullopt when there is no
// Authorization header or it uses another scheme.
std::optional<std::string> bearer_token(const Request& request);

// %XX decoding; `plus_is_space` for query components. nullopt when a '%' is
// not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);
// Percent-encodes everything except RFC 3986 unreserved characters, and '/'
// too when `keep_slash`.
std::string percent_encode(std::string_view text, bool keep_slash);

// "a=1&b=x%20y" -> {{"a","1"},{"b","x y"}} ('+' decodes to a space); a
// parameter without '=' gets an empty value; undecodable ones are skipped.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);
// The decoded value of the first parameter `name`, nullopt when absent.
std::optional<std::string> query_param(std::string_view query, std::string_view name);
// `query` without any parameter named `name` (raw text kept otherwise).
std::string query_without(std::string_view query, std::string_view name);

// Lower-case hex digests.
std::string sha1_hex(std::string_view data);
std::string sha256_hex(std::string_view data);
std::string md5_hex(std::string_view data);
std::uint32_t crc32(std::string_view data);
std::string random_hex(std::size_t bytes);
std::string to_upper(std::string_view text);

std::string base64_encode(std::string_view data);
// nullopt when `text` is not padded standard base64.
std::optional<std::string> base64_decode(std::string_view text);

// &, <, >, ", ' escaped for XML text and attribute values.
std::string xml_escape(std::string_view text);

// S3's error document:
// <?xml ...?><Error><Code>code</Code><Message>message</Message>[<Name>value</Name>...]
// <RequestId>..</RequestId><HostId>..</HostId></Error>
// as a Response with Content-Type application/xml and x-amz-request-id.
// For HEAD the body is left empty, as S3 does.
Response s3_error(const Request& request, int status, std::string_view code,
                  std::string_view message, const HeaderList& fields = {});

// What a pre-signed S3/CDN URL answers before looking at the object: 405 for
// methods other than GET/HEAD, 400 InvalidArgument ("Only one auth mechanism
// allowed...") when an Authorization header came too, which proves a client
// leaked its token across a redirect. nullopt when the request may go on.
std::optional<Response> refuse_presigned_request(const Request& request);

// A JSON response (Content-Type: application/json; charset=utf-8).
Response json_response(int status, std::string body);

// "2024-05-01T12:00:00.000Z" for `seconds` since the epoch.
std::string iso8601(std::int64_t seconds);
// IMF-fixdate ("Wed, 01 May 2024 12:00:00 GMT") for `seconds` since the epoch.
std::string imf_date(std::int64_t seconds);

// Splits "/a/b/c" into {"a","b","c"} (raw, not decoded; empty segments kept
// except a leading one).
std::vector<std::string> split_path(std::string_view path);

}  // namespace haul::testing::fake
