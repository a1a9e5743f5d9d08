// A fake S3 (path-style, http://127.0.0.1:PORT/BUCKET/KEY) on a
// TestHttpServer that verifies AWS Signature Version 4 on every request with
// haul::sources::s3's signer, and answers GetObject / HeadObject (Range,
// If-Match, If-None-Match, If-Range), HeadBucket and ListObjectsV2 with S3's
// XML documents and error codes. Enough for haul's S3 source and libcurl's
// CURLOPT_AWS_SIGV4 to run against it unchanged.
//
// Authentication checks, in order (first failure answers):
//   no Authorization header: allowed only for allow_anonymous buckets (else 403 AccessDenied);
//   the header parses as AWS4-HMAC-SHA256 (else 400 AuthorizationHeaderMalformed);
//   the access key is ours (else 403 InvalidAccessKeyId);
//   credentials not expired (else 400 ExpiredToken "The provided token has expired.");
//   x-amz-content-sha256 present (else 400 InvalidRequest "Missing required header for
//     this request: x-amz-content-sha256"), x-amz-date present (else 403 AccessDenied);
//   scope: service s3, our region, the x-amz-date's day (else 400 AuthorizationHeaderMalformed);
//   host, x-amz-date and every x-amz-* header sent are signed (else 403 AccessDenied
//     "There were headers present in the request which were not signed");
//   the session token, when one is set, is sent and equal (else 400 InvalidToken);
//   the recomputed signature over the raw path and query as received equals the
//     sent one (else 403 SignatureDoesNotMatch, counted by signature_failures());
//   a hex x-amz-content-sha256 equals the body's hash (else 400 XAmzContentSHA256Mismatch).
// It takes the server's catch-all prefix "/", so give FakeHuggingFace its own server.
//
// Threads: handlers run on the server's connection threads; every method may
// be called from the test thread meanwhile.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "support/test_http_server.hpp"

namespace haul::testing {

class FakeS3 {
 public:
  explicit FakeS3(TestHttpServer& server, std::string access_key = "AKIDEXAMPLE",
                  std::string secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                  std::string region = "us-east-1");
  FakeS3(const FakeS3&) = delete;
  FakeS3& operator=(const FakeS3&) = delete;
  ~FakeS3();

  // "http://127.0.0.1:PORT" (no trailing slash); objects are at /BUCKET/KEY.
  std::string endpoint() const;
  // endpoint() + "/" + bucket + the key percent-encoded the way S3 clients
  // must send it (everything but unreserved characters and '/').
  std::string object_url(std::string_view bucket, std::string_view key) const;

  void create_bucket(std::string bucket);
  // Stores (or replaces) an object, creating the bucket. Its ETag becomes
  // "\"<md5 hex>\"" and Last-Modified the current second.
  void put_object(std::string bucket, std::string key, std::string content);
  void delete_object(std::string_view bucket, std::string_view key);
  // The object's ETag, quotes included; "" when there is no such object.
  std::string etag_of(std::string_view bucket, std::string_view key) const;

  // From now on every signed request must carry this x-amz-security-token
  // (signed); "" = none expected.
  void set_session_token(std::string token);
  // true: every signed request gets 400 ExpiredToken.
  void expire_credentials(bool expired);
  // Upper bound on keys per ListObjectsV2 page (default 1000, as S3).
  void set_list_page_size(std::size_t keys);
  // Requests without an Authorization header may read `bucket`.
  void allow_anonymous(std::string bucket);
  // Requests rejected with SignatureDoesNotMatch so far.
  int signature_failures() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;  // shared with the server's handler
};

}  // namespace haul::testing
