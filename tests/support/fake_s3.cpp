#include "support/fake_s3.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "sources/s3/sigv4.hpp"
#include "support/fake_common.hpp"

namespace haul::testing {
namespace {

using fake::Request;
using fake::Response;

constexpr std::size_t kMaxKeys = 1000;
// Continuation tokens start with these bytes so that their base64 form holds
// '+' and '/', which a client must percent-encode (as with real S3 tokens).
constexpr std::string_view kTokenMagic = "\xfb\xff\xbf";

struct StoredObject {
  std::string content;
  std::string etag;  // quotes included
  std::int64_t modified = 0;
};

using Bucket = std::map<std::string, StoredObject>;  // sorted like S3: by UTF-8 bytes

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_hex64(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string tag(std::string_view name, std::string_view value) {
  return "<" + std::string(name) + ">" + fake::xml_escape(value) + "</" + std::string(name) + ">";
}

}  // namespace

class FakeS3::Impl {
 public:
  Impl(int port, std::string access_key, std::string secret_key, std::string region)
      : endpoint_("http://127.0.0.1:" + std::to_string(port)),
        access_key_(std::move(access_key)),
        secret_key_(std::move(secret_key)),
        region_(std::move(region)) {}

  Response handle(const Request& request);

  const std::string endpoint_;
  const std::string access_key_;
  const std::string secret_key_;
  const std::string region_;

  mutable std::mutex mutex_;
  std::map<std::string, Bucket> buckets_;
  std::set<std::string> anonymous_buckets_;
  std::string session_token_;
  bool expired_ = false;
  std::size_t list_page_size_ = kMaxKeys;
  int signature_failures_ = 0;

 private:
  // nullopt when the request may proceed, else the error to answer.
  std::optional<Response> authenticate(const Request& request, const std::string& bucket);
  Response get_object(const Request& request, const Bucket& bucket, const std::string& key) const;
  Response list_objects(const Request& request, const std::string& name,
                        const Bucket& bucket) const;
};

Response FakeS3::Impl::handle(const Request& request) {
  std::lock_guard lock(mutex_);
  auto response = [&] {
    const auto path = std::string_view(request.path).substr(1);
    const auto slash = path.find('/');
    const auto bucket_name = fake::percent_decode(path.substr(0, slash));
    const auto key = fake::percent_decode(slash == std::string_view::npos ? std::string_view{}
                                                                          : path.substr(slash + 1));
    if (!bucket_name || !key) {
      return fake::s3_error(request, 400, "InvalidURI", "Couldn't parse the specified URI.",
                            {{"URI", request.path}});
    }
    if (auto refused = authenticate(request, *bucket_name)) {
      return std::move(*refused);
    }
    if (bucket_name->empty()) {
      return fake::s3_error(request, 501, "NotImplemented",
                            "A header you provided implies functionality that is not implemented");
    }
    const auto bucket = buckets_.find(*bucket_name);
    if (bucket == buckets_.end()) {
      return fake::s3_error(request, 404, "NoSuchBucket", "The specified bucket does not exist",
                            {{"BucketName", *bucket_name}});
    }
    if (request.method != "GET" && request.method != "HEAD") {
      return fake::s3_error(request, 405, "MethodNotAllowed",
                            "The specified method is not allowed against this resource.",
                            {{"Method", request.method}, {"ResourceType", "OBJECT"}});
    }
    if (!key->empty()) {
      return get_object(request, bucket->second, *key);
    }
    if (request.method == "HEAD") {  // HeadBucket
      return Response{200, {{"x-amz-bucket-region", region_}}, ""};
    }
    return list_objects(request, *bucket_name, bucket->second);
  }();
  response.headers.emplace_back("x-amz-id-2", fake::base64_encode(fake::random_hex(24)));
  response.headers.emplace_back("Server", "AmazonS3");
  if (std::none_of(response.headers.begin(), response.headers.end(),
                   [](const auto& header) { return header.first == "x-amz-request-id"; })) {
    response.headers.emplace_back("x-amz-request-id", fake::to_upper(fake::random_hex(8)));
  }
  return response;
}

std::optional<Response> FakeS3::Impl::authenticate(const Request& request,
                                                   const std::string& bucket) {
  const auto authorization = fake::header(request, "authorization");
  if (authorization.empty()) {
    if (anonymous_buckets_.contains(bucket)) {
      return std::nullopt;
    }
    return fake::s3_error(request, 403, "AccessDenied", "Access Denied");
  }
  const auto parsed = sources::s3::parse_authorization(authorization);
  if (!parsed) {
    return fake::s3_error(request, 400, "AuthorizationHeaderMalformed",
                          "The authorization header is malformed; " + parsed.error().message);
  }
  if (parsed->access_key != access_key_) {
    return fake::s3_error(request, 403, "InvalidAccessKeyId",
                          "The AWS Access Key Id you provided does not exist in our records.",
                          {{"AWSAccessKeyId", parsed->access_key}});
  }
  if (expired_) {
    return fake::s3_error(request, 400, "ExpiredToken", "The provided token has expired.");
  }
  const auto payload_hash = fake::header(request, "x-amz-content-sha256");
  if (payload_hash.empty()) {
    return fake::s3_error(request, 400, "InvalidRequest",
                          "Missing required header for this request: x-amz-content-sha256");
  }
  const auto amz_date = fake::header(request, "x-amz-date");
  if (amz_date.empty()) {
    return fake::s3_error(request, 403, "AccessDenied",
                          "AWS authentication requires a valid Date or x-amz-date header");
  }
  if (parsed->service != "s3") {
    return fake::s3_error(request, 400, "AuthorizationHeaderMalformed",
                          "The authorization header is malformed; incorrect service '" +
                              parsed->service + "'. This endpoint belongs to 's3'.");
  }
  if (parsed->region != region_) {
    return fake::s3_error(request, 400, "AuthorizationHeaderMalformed",
                          "The authorization header is malformed; the region '" + parsed->region +
                              "' is wrong; expecting '" + region_ + "'",
                          {{"Region", region_}});
  }
  if (parsed->date != amz_date.substr(0, 8)) {
    return fake::s3_error(request, 400, "AuthorizationHeaderMalformed",
                          "The authorization header is malformed; Invalid credential date. Date "
                          "is not the same as X-Amz-Date.");
  }
  const auto& signed_names = parsed->signed_headers;
  const auto is_signed = [&](const std::string& name) {
    return std::find(signed_names.begin(), signed_names.end(), name) != signed_names.end();
  };
  std::string unsigned_headers;
  for (const auto& [name, value] : request.headers) {
    if ((name == "host" || name.starts_with("x-amz-")) && !is_signed(name)) {
      unsigned_headers += (unsigned_headers.empty() ? "" : ",") + name;
    }
  }
  if (!unsigned_headers.empty()) {
    return fake::s3_error(request, 403, "AccessDenied",
                          "There were headers present in the request which were not signed",
                          {{"HeadersNotSigned", unsigned_headers}});
  }
  const auto token = fake::header(request, "x-amz-security-token");
  if (token != session_token_) {
    if (!session_token_.empty() && token.empty()) {
      return fake::s3_error(request, 403, "InvalidAccessKeyId",
                            "The AWS Access Key Id you provided does not exist in our records.",
                            {{"AWSAccessKeyId", parsed->access_key}});
    }
    return fake::s3_error(request, 400, "InvalidToken",
                          "The provided token is malformed or otherwise invalid.");
  }
  sources::s3::SigningInput input;
  input.method = request.method;
  input.canonical_uri = request.path;
  input.query = request.query;
  for (const auto& name : signed_names) {
    input.headers.emplace_back(name, fake::header(request, name));
  }
  input.payload_hash = payload_hash;
  input.amz_date = amz_date;
  input.region = region_;
  input.access_key = access_key_;
  input.secret_key = secret_key_;
  if (sources::s3::signature(input) != parsed->signature) {
    ++signature_failures_;
    return fake::s3_error(request, 403, "SignatureDoesNotMatch",
                          "The request signature we calculated does not match the signature you "
                          "provided. Check your key and signing method.",
                          {{"AWSAccessKeyId", parsed->access_key},
                           {"StringToSign", sources::s3::string_to_sign(input)},
                           {"SignatureProvided", parsed->signature},
                           {"CanonicalRequest", sources::s3::canonical_request(input)}});
  }
  if (is_hex64(payload_hash) && payload_hash != fake::sha256_hex(request.body)) {
    return fake::s3_error(
        request, 400, "XAmzContentSHA256Mismatch",
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        {{"ClientComputedContentSHA256", payload_hash},
         {"S3ComputedContentSHA256", fake::sha256_hex(request.body)}});
  }
  return std::nullopt;
}

Response FakeS3::Impl::get_object(const Request& request, const Bucket& bucket,
                                  const std::string& key) const {
  const auto object = bucket.find(key);
  if (object == bucket.end()) {
    return fake::s3_error(request, 404, "NoSuchKey", "The specified key does not exist.",
                          {{"Key", key}});
  }
  fake::Entity entity;
  entity.body = object->second.content;
  entity.etag = object->second.etag;
  entity.last_modified = fake::imf_date(object->second.modified);
  entity.content_type = "binary/octet-stream";
  auto response = fake::serve_entity(request, entity);
  if (response.status == 412) {
    return fake::s3_error(request, 412, "PreconditionFailed",
                          "At least one of the pre-conditions you specified did not hold",
                          {{"Condition", "If-Match"}});
  }
  if (response.status == 416) {
    auto refused =
        fake::s3_error(request, 416, "InvalidRange", "The requested range is not satisfiable",
                       {{"RangeRequested", fake::header(request, "range")},
                        {"ActualObjectSize", std::to_string(entity.body.size())}});
    refused.headers.emplace_back("Content-Range", "bytes */" + std::to_string(entity.body.size()));
    return refused;
  }
  return response;
}

Response FakeS3::Impl::list_objects(const Request& request, const std::string& name,
                                    const Bucket& bucket) const {
  const auto param = [&](std::string_view key) { return fake::query_param(request.query, key); };
  if (param("list-type").value_or("") != "2") {
    return fake::s3_error(request, 400, "InvalidArgument",
                          "This fake S3 lists only with ListObjectsV2 (list-type=2)",
                          {{"ArgumentName", "list-type"}});
  }
  const auto prefix = param("prefix").value_or("");
  const auto delimiter = param("delimiter").value_or("");
  const bool url_encoding = param("encoding-type").value_or("") == "url";
  std::size_t max_keys = kMaxKeys;
  if (const auto text = param("max-keys")) {
    const auto* end = text->data() + text->size();
    if (std::from_chars(text->data(), end, max_keys).ptr != end || text->empty()) {
      return fake::s3_error(request, 400, "InvalidArgument",
                            "Provided max-keys not an integer or within integer range",
                            {{"ArgumentName", "max-keys"}, {"ArgumentValue", *text}});
    }
    max_keys = std::min(max_keys, kMaxKeys);
  }
  const auto page_size = std::min(max_keys, list_page_size_);
  auto start = bucket.begin();
  const auto token = param("continuation-token");
  if (token) {
    const auto decoded = fake::base64_decode(*token);
    if (!decoded || !decoded->starts_with(kTokenMagic)) {
      return fake::s3_error(request, 400, "InvalidArgument",
                            "The continuation token provided is incorrect",
                            {{"ArgumentName", "continuation-token"}});
    }
    start = bucket.lower_bound(decoded->substr(kTokenMagic.size()));
  } else if (const auto after = param("start-after")) {
    start = bucket.upper_bound(*after);
  }
  const auto encode = [&](std::string_view text) {
    return url_encoding ? fake::percent_encode(text, true) : std::string(text);
  };
  std::string contents;
  std::vector<std::string> common_prefixes;
  std::size_t count = 0;
  std::optional<std::string> next_key;
  for (auto it = start; it != bucket.end(); ++it) {
    const auto& key = it->first;
    if (!key.starts_with(prefix)) {
      continue;
    }
    const auto cut = delimiter.empty() ? std::string::npos : key.find(delimiter, prefix.size());
    const auto group =
        cut == std::string::npos ? std::string() : key.substr(0, cut + delimiter.size());
    if (!group.empty() && !common_prefixes.empty() && common_prefixes.back() == group) {
      continue;  // rolled up into the previous CommonPrefixes entry
    }
    if (count == page_size) {
      next_key = key;
      break;
    }
    ++count;
    if (!group.empty()) {
      common_prefixes.push_back(group);
      continue;
    }
    contents += "<Contents>" + tag("Key", encode(key)) +
                tag("LastModified", fake::iso8601(it->second.modified)) +
                tag("ETag", it->second.etag) +
                tag("Size", std::to_string(it->second.content.size())) +
                tag("StorageClass", "STANDARD") + "</Contents>";
  }
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  body += "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  body += tag("Name", name) + tag("Prefix", encode(prefix));
  if (token) {
    body += tag("ContinuationToken", *token);
  }
  if (const auto after = param("start-after")) {
    body += tag("StartAfter", encode(*after));
  }
  if (next_key) {
    body += tag("NextContinuationToken", fake::base64_encode(std::string(kTokenMagic) + *next_key));
  }
  body += tag("KeyCount", std::to_string(count)) + tag("MaxKeys", std::to_string(max_keys));
  if (!delimiter.empty()) {
    body += tag("Delimiter", encode(delimiter));
  }
  if (url_encoding) {
    body += tag("EncodingType", "url");
  }
  body += tag("IsTruncated", next_key ? "true" : "false") + contents;
  for (const auto& group : common_prefixes) {
    body += "<CommonPrefixes>" + tag("Prefix", encode(group)) + "</CommonPrefixes>";
  }
  body += "</ListBucketResult>";
  return Response{200, {{"Content-Type", "application/xml"}}, std::move(body)};
}

// ---- public API -----------------------------------------------------------

FakeS3::FakeS3(TestHttpServer& server, std::string access_key, std::string secret_key,
               std::string region)
    : impl_(std::make_shared<Impl>(server.port(), std::move(access_key), std::move(secret_key),
                                   std::move(region))) {
  server.add_prefix_handler(
      "/", [impl = impl_](const Request& request) { return impl->handle(request); });
}

FakeS3::~FakeS3() = default;

std::string FakeS3::endpoint() const { return impl_->endpoint_; }

std::string FakeS3::object_url(std::string_view bucket, std::string_view key) const {
  return impl_->endpoint_ + "/" + std::string(bucket) + sources::s3::encode_key_path(key);
}

void FakeS3::create_bucket(std::string bucket) {
  std::lock_guard lock(impl_->mutex_);
  impl_->buckets_.try_emplace(std::move(bucket));
}

void FakeS3::put_object(std::string bucket, std::string key, std::string content) {
  StoredObject object{std::move(content), "", now_seconds()};
  object.etag = "\"" + fake::md5_hex(object.content) + "\"";
  std::lock_guard lock(impl_->mutex_);
  impl_->buckets_[std::move(bucket)].insert_or_assign(std::move(key), std::move(object));
}

void FakeS3::delete_object(std::string_view bucket, std::string_view key) {
  std::lock_guard lock(impl_->mutex_);
  if (const auto it = impl_->buckets_.find(std::string(bucket)); it != impl_->buckets_.end()) {
    it->second.erase(std::string(key));
  }
}

std::string FakeS3::etag_of(std::string_view bucket, std::string_view key) const {
  std::lock_guard lock(impl_->mutex_);
  const auto it = impl_->buckets_.find(std::string(bucket));
  if (it == impl_->buckets_.end()) {
    return {};
  }
  const auto object = it->second.find(std::string(key));
  return object == it->second.end() ? std::string() : object->second.etag;
}

void FakeS3::set_session_token(std::string token) {
  std::lock_guard lock(impl_->mutex_);
  impl_->session_token_ = std::move(token);
}

void FakeS3::expire_credentials(bool expired) {
  std::lock_guard lock(impl_->mutex_);
  impl_->expired_ = expired;
}

void FakeS3::set_list_page_size(std::size_t keys) {
  std::lock_guard lock(impl_->mutex_);
  impl_->list_page_size_ = std::max<std::size_t>(keys, 1);
}

void FakeS3::allow_anonymous(std::string bucket) {
  std::lock_guard lock(impl_->mutex_);
  impl_->anonymous_buckets_.insert(std::move(bucket));
}

int FakeS3::signature_failures() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->signature_failures_;
}

}  // namespace haul::testing
