// What an s3:// source names (bucket and key or prefix), the S3 settings
// taken from the AWS_* environment, and the URLs haul asks curl to fetch.
// curl 7.88 signs the URL as written, so these URLs come out already in the
// form SigV4 expects: the key percent-encoded, the query sorted and encoded.
// Pure functions; thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace haul::sources::s3 {

struct S3Ref {
  std::string bucket;
  // The object key, taken literally (s3:// sources are not percent-encoded,
  // as with the AWS CLI). "" or ending in '/' means a prefix.
  std::string key;

  // The source names every object under `key` (the whole bucket when "").
  bool is_prefix() const { return key.empty() || key.back() == '/'; }
};

// s3://BUCKET/KEY (one object), s3://BUCKET/PREFIX/ and s3://BUCKET or
// s3://BUCKET/ (every object of the bucket). The scheme is case-insensitive.
// Bucket names follow AWS's current rules: 3-63 characters of a-z 0-9 . -,
// starting and ending with a letter or digit, no "..", not an IPv4 address.
// Legacy names with upper case or '_' are refused: they cannot be addressed
// virtual-host style, and an upper-case name is almost always a typo.
// Keys are at most 1024 bytes.
// Errors: kInvalidArgument "invalid S3 source 's3://...': <why>".
Result<S3Ref> parse_s3_source(std::string_view source);

// The one check parse_s3_source applies to the bucket; "" when valid, else why not.
std::string bucket_name_problem(std::string_view bucket);

struct S3Config {
  std::string access_key;     // AWS_ACCESS_KEY_ID
  std::string secret_key;     // AWS_SECRET_ACCESS_KEY
  std::string session_token;  // AWS_SESSION_TOKEN, sent as x-amz-security-token
  std::string region = "us-east-1";
  // AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL without a trailing '/'
  // ("http://127.0.0.1:9000"); "" = AWS itself.
  std::string endpoint;
  // BUCKET in the path (ENDPOINT/BUCKET/KEY) rather than in the host name.
  bool path_style = false;

  // No credentials: public buckets, requests go unsigned.
  bool anonymous() const { return access_key.empty(); }
};

// Reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
// AWS_REGION (else AWS_DEFAULT_REGION, else us-east-1), AWS_ENDPOINT_URL_S3
// (else AWS_ENDPOINT_URL), HAUL_S3_PATH_STYLE=1 and
// AWS_S3_FORCE_PATH_STYLE=true. Path style is also chosen when the endpoint's
// host is an IP address or localhost (no DNS names for buckets there).
// Empty variables count as unset. No key at all is fine (anonymous).
// Errors: kInvalidArgument naming the variable: only one of the key pair set,
// a session token without keys, an endpoint that is not an http(s) URL
// (or carries user:password, a query or a fragment), a region with
// characters other than a-z A-Z 0-9 - _.
Result<S3Config> s3_config_from_env(
    std::function<std::optional<std::string>(std::string_view)> getenv);

// The URL of one object:
//   https://BUCKET.s3.REGION.amazonaws.com/ENCODED_KEY      (AWS, virtual host)
//   https://s3.REGION.amazonaws.com/BUCKET/ENCODED_KEY      (AWS, path style)
//   ENDPOINT/BUCKET/ENCODED_KEY                             (endpoint, path style)
//   SCHEME://BUCKET.ENDPOINT-HOST/ENCODED_KEY               (endpoint, virtual host)
// Buckets with '.' always go path style: a dotted name breaks the TLS
// wildcard certificate of the virtual host. China regions (cn-*) use
// amazonaws.com.cn. The key is encoded with encode_key_path.
std::string object_url(const S3Config& config, const S3Ref& bucket, std::string_view key);

// A ListObjectsV2 page: GET on the bucket with
// "?continuation-token=..&list-type=2&prefix=.." (the token only when not
// empty), names and values already encoded and sorted as canonical_query()
// would put them, because curl 7.88 signs the query as written.
std::string list_url(const S3Config& config, std::string_view bucket, std::string_view prefix,
                     std::string_view continuation_token);

// "aws:amz:REGION:s3" for CURLOPT_AWS_SIGV4. Naming region and service
// stops curl guessing them from the host name, which it gets wrong for
// BUCKET.s3.REGION.amazonaws.com.
std::string curl_sigv4_provider(const S3Config& config);

}  // namespace haul::sources::s3
