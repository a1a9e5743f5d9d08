// S3's XML answers: ListObjectsV2 pages and <Error> bodies, turned into
// values and haul Errors. Pure functions (pugixml inside); thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace haul::sources::s3 {

struct S3Object {
  std::string key;
  std::uint64_t size = 0;
  // As S3 sends it, quotes included ("\"9b2cf535f27731c974343645a3985328\""
  // or "\"...-12\"" for multipart uploads): ready for an If-Match header.
  std::string etag;
  std::string last_modified;  // ISO 8601 as sent: "2009-10-12T17:50:30.000Z"
  std::string storage_class;  // "STANDARD", "GLACIER", ...; "" when absent
};

struct S3ListPage {
  std::vector<S3Object> objects;
  bool truncated = false;
  // Pass to list_url() for the next page; set whenever `truncated`.
  std::string next_continuation_token;
};

// A ListBucketResult document (namespace prefixes ignored). An <Error>
// document gives the error s3_error() makes of it.
// Errors: kProtocol "bad ListObjectsV2 response: <why>" for anything that is
// not a well-formed page (not XML, a <Contents> without <Key> or with a
// non-numeric <Size>, IsTruncated=true without NextContinuationToken).
Result<S3ListPage> parse_list_objects_v2(std::string_view xml);

// The fields of an <Error> body that haul uses.
struct S3ErrorBody {
  std::string code;      // "NoSuchKey"
  std::string message;   // "The specified key does not exist."
  std::string region;    // <Region>, sent with AuthorizationHeaderMalformed
  std::string endpoint;  // <Endpoint>, sent with PermanentRedirect/TemporaryRedirect
};

// nullopt when `xml` is not an <Error> document (empty HEAD bodies included).
std::optional<S3ErrorBody> parse_error_body(std::string_view xml);

// The region S3 says the bucket is in: `bucket_region_header`
// (x-amz-bucket-region) when given, else <Region>, else the region inside
// <Endpoint> ("b.s3.eu-west-1.amazonaws.com" -> "eu-west-1"); "" if none.
std::string redirect_region(std::string_view xml_body, std::string_view bucket_region_header = {});

// The Error for a failed S3 request. `what` names the request for the
// message ("s3://bucket/key"). The message is one line:
//   "<what>: HTTP 404 NoSuchKey: The specified key does not exist."
//   "<what>: <advice> (HTTP 400 ExpiredToken: The provided token has expired.)"
// with Code and Message verbatim; http_status is `status`. A body that is
// not an <Error> (HEAD responses have none) is judged by status alone.
// Codes:
//   NoSuchKey, NoSuchBucket, NoSuchVersion, 404, 410        -> kNotFound
//   AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch,
//   AllAccessDisabled, AccountProblem, InvalidToken,
//   RequestTimeTooSkewed, 401, 403                          -> kPermissionDenied
//   ExpiredToken, TokenRefreshRequired                      -> kPermissionDenied,
//       "credentials expired: refresh AWS_SESSION_TOKEN"
//   PreconditionFailed, 412 (our If-Match: the object changed
//       during the download; resolving again restarts it)   -> kUnavailable
//   SlowDown, ServiceUnavailable, InternalError,
//   RequestTimeout, TemporaryRedirect, 307, 408, 429, 5xx   -> kUnavailable
//   PermanentRedirect, 301, AuthorizationHeaderMalformed
//       naming a region ("set AWS_REGION=<region>")         -> kInvalidArgument
//   InvalidObjectState (archived in Glacier)                -> kConflict
//   InvalidRange, 416                                       -> kProtocol
//   other 4xx -> kInvalidArgument; anything else -> kProtocol
// `bucket_region_header` is x-amz-bucket-region, the only region hint a
// HEAD redirect carries.
Error s3_error(int status, std::string_view xml_body, std::string_view what,
               std::string_view bucket_region_header = {});

}  // namespace haul::sources::s3
