// S3 sources -> plans: a HEAD for one key (size, ETag), ListObjectsV2 pages
// for a prefix. Every request is signed by libcurl (CURLOPT_AWS_SIGV4) with
// the 7.88 workarounds: keys percent-encoded by us, the list query already in
// canonical order, x-amz-content-sha256 sent explicitly.
#include <charconv>

#include "base/text.hpp"
#include "sources/http_client.hpp"
#include "sources/plan_transfer.hpp"
#include "sources/providers.hpp"
#include "sources/s3/s3_list.hpp"
#include "sources/s3/s3_ref.hpp"

namespace haul::sources {

namespace {

// SHA-256 of an empty body: what a GET or HEAD signs as its payload.
constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::vector<std::string> signed_headers(const s3::S3Config& config) {
  if (config.anonymous()) return {};
  std::vector<std::string> headers{"x-amz-content-sha256: " + std::string(kEmptyPayloadHash)};
  if (!config.session_token.empty())
    headers.push_back("x-amz-security-token: " + config.session_token);
  return headers;
}

std::optional<AwsSigning> signing(const s3::S3Config& config) {
  if (config.anonymous()) return std::nullopt;
  return AwsSigning{s3::curl_sigv4_provider(config), config.access_key, config.secret_key,
                    config.session_token};
}

HttpRequest s3_request(const s3::S3Config& config, std::string method, std::string url) {
  HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.headers = signed_headers(config);
  request.aws = signing(config);
  return request;
}

std::string display(const s3::S3Ref& ref, std::string_view key) {
  return "s3://" + ref.bucket + "/" + std::string(key);
}

PlannedFile planned_object(const s3::S3Config& config, const s3::S3Ref& ref, const std::string& key,
                           std::optional<std::uint64_t> size, const std::string& etag,
                           std::string relative_path) {
  PlannedFile file;
  file.key = display(ref, key);
  file.relative_path = std::move(relative_path);
  file.size = size;
  file.fetch.url = s3::object_url(config, ref, key);
  file.fetch.headers = signed_headers(config);
  file.fetch.aws = signing(config);
  file.fetch.if_match = etag;  // a ranged GET of another version answers 412
  return file;
}

std::optional<std::uint64_t> parse_count(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The object's size and ETag from a one-byte ranged GET rather than a HEAD:
// S3 answers a failed HEAD without a body, a failed GET with the XML that
// says why (SignatureDoesNotMatch, ExpiredToken, NoSuchKey, ...).
Result<Plan> resolve_object(const s3::S3Config& config, const s3::S3Ref& ref) {
  HttpRequest probe = s3_request(config, "GET", s3::object_url(config, ref, ref.key));
  probe.headers.emplace_back("Range: bytes=0-0");
  probe.max_body = 1u << 20;
  auto answer = http_fetch(probe);
  if (!answer) return fail(answer.error());
  std::optional<std::uint64_t> size;
  if (answer->status == 206) {
    const std::string range = answer->header("content-range").value_or("");
    if (const auto slash = range.rfind('/'); slash != std::string::npos)
      size = parse_count(std::string_view(range).substr(slash + 1));
  } else if (answer->status == 416) {
    size = 0;  // an empty object has no byte 0
  } else if (answer->status == 200) {
    size = parse_count(answer->header("content-length").value_or(""));
  } else {
    return fail(s3::s3_error(answer->status, answer->body, display(ref, ref.key),
                             answer->header("x-amz-bucket-region").value_or("")));
  }
  std::string etag = answer->header("etag").value_or("");
  if (answer->status == 416) {
    auto head = http_fetch(s3_request(config, "HEAD", s3::object_url(config, ref, ref.key)));
    if (!head) return fail(head.error());
    if (head->status != 200)
      return fail(s3::s3_error(head->status, head->body, display(ref, ref.key)));
    etag = head->header("etag").value_or("");
  }
  Plan plan;
  plan.name = display(ref, ref.key);
  plan.files.push_back(
      planned_object(config, ref, ref.key, size, etag, ref.key.substr(ref.key.rfind('/') + 1)));
  return plan;
}

Result<Plan> resolve_prefix(const s3::S3Config& config, const s3::S3Ref& ref) {
  Plan plan;
  plan.name = display(ref, ref.key);
  std::string token;
  do {
    auto page =
        http_fetch(s3_request(config, "GET", s3::list_url(config, ref.bucket, ref.key, token)));
    if (!page) return fail(page.error());
    if (page->status != 200) {
      return fail(s3::s3_error(page->status, page->body, display(ref, ref.key),
                               page->header("x-amz-bucket-region").value_or("")));
    }
    auto listed = s3::parse_list_objects_v2(page->body);
    if (!listed) return fail(listed.error());
    for (const s3::S3Object& object : listed->objects) {
      if (object.key.ends_with('/')) continue;  // a "folder" marker
      std::string relative = object.key.substr(ref.key.size());
      if (!is_safe_relative_path(relative)) {
        return fail(ErrorCode::kPermissionDenied,
                    "refusing key '" + object.key + "': it does not map to a safe local path");
      }
      plan.files.push_back(
          planned_object(config, ref, object.key, object.size, object.etag, std::move(relative)));
    }
    token = listed->truncated ? listed->next_continuation_token : "";
  } while (!token.empty());
  if (plan.files.empty())
    return fail(ErrorCode::kNotFound, "no object under " + display(ref, ref.key));
  return plan;
}

}  // namespace

Result<void> check_s3_source(std::string_view source) {
  auto ref = s3::parse_s3_source(source);
  if (!ref) return fail(ref.error());
  return {};
}

Result<Plan> resolve_s3(std::string_view source, const ResolveOptions& options) {
  auto ref = s3::parse_s3_source(source);
  if (!ref) return fail(ref.error());
  auto config = s3::s3_config_from_env(options.getenv);
  if (!config) return fail(config.error());
  return ref->is_prefix() ? resolve_prefix(*config, *ref) : resolve_object(*config, *ref);
}

}  // namespace haul::sources
