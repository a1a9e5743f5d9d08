#include "sources/s3/s3_ref.hpp"

#include <algorithm>

#include "base/text.hpp"
#include "net/url.hpp"
#include "sources/s3/sigv4.hpp"

namespace haul::sources::s3 {

namespace {

constexpr std::string_view kScheme = "s3://";
constexpr std::size_t kMaxKeyBytes = 1024;

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "192.168.5.4": four dot-separated runs of digits.
bool looks_like_ipv4(std::string_view text) {
  int parts = 0;
  while (true) {
    std::size_t dot = text.find('.');
    std::string_view part = text.substr(0, dot);
    if (part.empty() || part.size() > 3 || !std::all_of(part.begin(), part.end(), is_digit))
      return false;
    ++parts;
    if (dot == std::string_view::npos) return parts == 4;
    text.remove_prefix(dot + 1);
  }
}

// Buckets cannot be DNS names under an IP address or localhost.
bool needs_path_style(std::string_view host) {
  return host == "localhost" || host.find(':') != std::string_view::npos ||  // [::1]
         looks_like_ipv4(host);
}

bool is_true(std::string_view value) {
  return value == "1" || iequals(value, "true") || iequals(value, "yes");
}

bool valid_region(std::string_view region) {
  return !region.empty() && std::all_of(region.begin(), region.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '_';
  });
}

std::string aws_domain(std::string_view region) {
  return region.substr(0, 3) == "cn-" ? ".amazonaws.com.cn" : ".amazonaws.com";
}

// Where the bucket lives; an object's URL is this plus encode_key_path(key).
// `path_style` tells whether the bucket is the first path segment.
std::string bucket_base(const S3Config& config, std::string_view bucket, bool& path_style) {
  path_style = config.path_style || bucket.find('.') != std::string_view::npos;
  std::string b(bucket);
  if (config.endpoint.empty()) {
    const std::string domain = aws_domain(config.region);
    if (path_style) return "https://s3." + config.region + domain + "/" + b;
    return "https://" + b + ".s3." + config.region + domain;
  }
  if (path_style) return config.endpoint + "/" + b;
  // s3_config_from_env checked that the endpoint is scheme://authority[/path].
  std::string out = config.endpoint;
  std::size_t host = out.find("://");
  host = host == std::string::npos ? 0 : host + 3;
  out.insert(host, b + ".");
  return out;
}

}  // namespace

std::string bucket_name_problem(std::string_view bucket) {
  const std::string quoted = "'" + std::string(bucket) + "'";
  if (bucket.size() < 3 || bucket.size() > 63)
    return "bucket name " + quoted + " is " + std::to_string(bucket.size()) +
           " characters long; bucket names have 3 to 63";
  for (char c : bucket) {
    if (c >= 'A' && c <= 'Z')
      return "bucket name " + quoted + " has upper-case letters; bucket names are lower-case";
    if (!is_lower_alnum(c) && c != '.' && c != '-')
      return "bucket name " + quoted + " has '" + std::string(1, c) +
             "'; only a-z, 0-9, '.' and '-' are allowed";
  }
  if (!is_lower_alnum(bucket.front()) || !is_lower_alnum(bucket.back()))
    return "bucket name " + quoted + " must start and end with a letter or digit";
  if (bucket.find("..") != std::string_view::npos)
    return "bucket name " + quoted + " has two dots in a row";
  if (looks_like_ipv4(bucket)) return "bucket name " + quoted + " looks like an IP address";
  return "";
}

Result<S3Ref> parse_s3_source(std::string_view source) {
  auto invalid = [&](const std::string& why) {
    return fail(ErrorCode::kInvalidArgument,
                "invalid S3 source '" + std::string(source) + "': " + why);
  };
  if (source.size() < kScheme.size() || !iequals(source.substr(0, kScheme.size()), kScheme))
    return invalid("it does not start with s3://");
  std::string_view rest = source.substr(kScheme.size());
  const std::size_t slash = rest.find('/');
  S3Ref ref;
  ref.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) ref.key = std::string(rest.substr(slash + 1));
  if (ref.bucket.empty()) return invalid("no bucket name (expected s3://BUCKET/KEY)");
  if (std::string problem = bucket_name_problem(ref.bucket); !problem.empty())
    return invalid(problem);
  if (ref.key.size() > kMaxKeyBytes)
    return invalid("the key is " + std::to_string(ref.key.size()) +
                   " bytes long; S3 keys have at most 1024");
  return ref;
}

Result<S3Config> s3_config_from_env(
    std::function<std::optional<std::string>(std::string_view)> getenv) {
  auto get = [&](std::string_view name) -> std::string {
    std::optional<std::string> value = getenv(name);
    return value ? std::string(trim(*value)) : std::string();
  };
  S3Config config;
  config.access_key = get("AWS_ACCESS_KEY_ID");
  config.secret_key = get("AWS_SECRET_ACCESS_KEY");
  config.session_token = get("AWS_SESSION_TOKEN");
  if (!config.access_key.empty() && config.secret_key.empty())
    return fail(ErrorCode::kInvalidArgument,
                "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or neither "
                "for a public bucket");
  if (config.access_key.empty() && !config.secret_key.empty())
    return fail(ErrorCode::kInvalidArgument,
                "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both, or neither "
                "for a public bucket");
  if (config.access_key.empty() && !config.session_token.empty())
    return fail(ErrorCode::kInvalidArgument,
                "AWS_SESSION_TOKEN is set without AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: "
                "temporary credentials need all three");

  std::string_view region_var = "AWS_REGION";
  std::string region = get(region_var);
  if (region.empty()) {
    region_var = "AWS_DEFAULT_REGION";
    region = get(region_var);
  }
  if (!region.empty()) {
    if (!valid_region(region))
      return fail(ErrorCode::kInvalidArgument, std::string(region_var) + " '" + region +
                                                   "' is not a region name like us-east-1");
    config.region = region;
  }

  std::string_view endpoint_var = "AWS_ENDPOINT_URL_S3";
  std::string endpoint = get(endpoint_var);
  if (endpoint.empty()) {
    endpoint_var = "AWS_ENDPOINT_URL";
    endpoint = get(endpoint_var);
  }
  if (!endpoint.empty()) {
    auto bad = [&](const std::string& why) {
      return fail(ErrorCode::kInvalidArgument,
                  std::string(endpoint_var) + " '" + net::redact_url(endpoint) + "' " + why);
    };
    Result<net::Url> url = net::parse_url(endpoint);
    if (!url) return bad("is not an http(s) URL like https://s3.example.com");
    const std::size_t authority = endpoint.find("://") + 3;
    const std::size_t path = endpoint.find('/', authority);
    if (endpoint.substr(authority, path - authority).find('@') != std::string::npos)
      return bad("has user:password@; give the keys in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY");
    if (endpoint.find_first_of("?#") != std::string::npos)
      return bad("has a query or fragment; give only scheme://host[:port]");
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    config.endpoint = endpoint;
    if (needs_path_style(url->host)) config.path_style = true;
  }
  if (is_true(get("HAUL_S3_PATH_STYLE")) || is_true(get("AWS_S3_FORCE_PATH_STYLE")))
    config.path_style = true;
  return config;
}

std::string object_url(const S3Config& config, const S3Ref& bucket, std::string_view key) {
  bool path_style = false;
  return bucket_base(config, bucket.bucket, path_style) + encode_key_path(key);
}

std::string list_url(const S3Config& config, std::string_view bucket, std::string_view prefix,
                     std::string_view continuation_token) {
  bool path_style = false;
  std::string url = bucket_base(config, bucket, path_style);
  // Path style lists "/BUCKET?...", as the AWS SDKs do; virtual host lists "/?...".
  url += path_style ? "?" : "/?";
  // Names in byte order, values encoded as canonical_query() encodes them:
  // curl 7.88 signs this text unchanged.
  if (!continuation_token.empty())
    url += "continuation-token=" + uri_encode(continuation_token, true) + "&";
  url += "list-type=2&prefix=" + uri_encode(prefix, true);
  return url;
}

std::string curl_sigv4_provider(const S3Config& config) {
  return "aws:amz:" + config.region + ":s3";
}

}  // namespace haul::sources::s3
