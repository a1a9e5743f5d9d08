// AWS Signature Version 4 for S3, computed by haul itself. The downloads are
// signed by libcurl (CURLOPT_AWS_SIGV4); this code exists to build the URLs
// that curl 7.88 signs correctly (encoded path, pre-sorted query), to test
// them against AWS's published vectors, and to let the test S3 server verify
// what curl sent. Pure functions; no I/O, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"

namespace haul::sources::s3 {

// One request as the signer sees it.
struct SigningInput {
  std::string method;  // "GET"
  // The path exactly as sent on the wire, already percent-encoded
  // ("/test%24file.text"). S3 signs it as is: no normalisation of "." and
  // "..", no second encoding. Empty means "/".
  std::string canonical_uri;
  // Raw query string as sent, without '?'; canonicalised inside.
  std::string query;
  // The headers to sign, names in any case; "host" must be among them.
  // A name given several times is signed as "v1,v2" in the order given.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_hash;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
  std::string amz_date;      // "20130524T000000Z" (its first 8 characters are the scope date)
  std::string region;        // "us-east-1"
  std::string service = "s3";
  std::string access_key;
  std::string secret_key;
};

// AWS UriEncode: A-Z a-z 0-9 - . _ ~ are kept, every other byte becomes %XX
// (upper-case hex); '/' is kept unless `encode_slash`. UTF-8 is encoded byte
// by byte.
std::string uri_encode(std::string_view text, bool encode_slash);

// The canonical query string: each name and value percent-decoded, then
// re-encoded with uri_encode(.., true); pairs sorted by name, then by value;
// a parameter without '=' becomes "name=". Empty parameters ("a&&b") are
// dropped. '+' is a literal plus (%2B), not a space; a '%' not followed by
// two hex digits is a literal '%'.
std::string canonical_query(std::string_view raw_query);

// Lines "name:value\n" sorted by lower-case name; values trimmed, inner runs
// of spaces and tabs collapsed to one space, repeated names joined with ','.
std::string canonical_headers(const SigningInput& in);

// "host;range;x-amz-content-sha256;x-amz-date": the sorted lower-case names.
std::string signed_headers(const SigningInput& in);

// METHOD \n URI \n QUERY \n HEADERS \n SIGNED-HEADERS \n PAYLOAD-HASH, the
// text the suite's *.creq files hold.
std::string canonical_request(const SigningInput& in);

// "20130524/us-east-1/s3/aws4_request".
std::string credential_scope(const SigningInput& in);

// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex SHA-256 of the canonical request>".
std::string string_to_sign(const SigningInput& in);

// Lower-case hex HMAC-SHA256 of the string to sign with the derived key.
std::string signature(const SigningInput& in);

// "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request,
// SignedHeaders=..., Signature=..." (one line, ", " between the parts, as
// curl and the AWS SDKs send it).
std::string authorization(const SigningInput& in);

// An Authorization header taken apart, for a server that verifies requests.
struct ParsedAuthorization {
  std::string access_key;
  std::string date;                         // "20130524"
  std::string region;                       // "us-east-1"
  std::string service;                      // "s3"
  std::vector<std::string> signed_headers;  // as listed ("host", "x-amz-date")
  std::string signature;                    // 64 lower-case hex digits
};

// Accepts "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..."
// with or without spaces after the commas, parts in any order.
// Errors: kInvalidArgument "malformed SigV4 Authorization header: <why>".
Result<ParsedAuthorization> parse_authorization(std::string_view header_value);

// "/" + uri_encode(key, false): the path to put in an S3 URL. curl 7.88 signs
// the path as written without encoding it, so it has to be encoded already.
std::string encode_key_path(std::string_view key);

}  // namespace haul::sources::s3
