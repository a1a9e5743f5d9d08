#include "support/fake_common.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>
#include <stdexcept>

#include "support/http_wire.hpp"

namespace haul::testing::fake {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

// Entity tags of an If-Match / If-None-Match list ("*" stays "*").
std::vector<std::string_view> entity_tags(std::string_view list) {
  std::vector<std::string_view> tags;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto tag = trim(list.substr(0, comma));
    if (!tag.empty()) {
      tags.push_back(tag);
    }
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
  }
  return tags;
}

std::string_view opaque(std::string_view tag) {
  return tag.starts_with("W/") ? tag.substr(2) : tag;
}

// RFC 9110 13.1.1: strong comparison; "*" matches any current representation.
bool if_match_holds(std::string_view list, std::string_view etag) {
  for (const auto tag : entity_tags(list)) {
    if (tag == "*" ||
        (!etag.empty() && !tag.starts_with("W/") && !etag.starts_with("W/") && tag == etag)) {
      return true;
    }
  }
  return false;
}

// RFC 9110 13.1.2: weak comparison.
bool if_none_match_matches(std::string_view list, std::string_view etag) {
  for (const auto tag : entity_tags(list)) {
    if (tag == "*" || (!etag.empty() && opaque(tag) == opaque(etag))) {
      return true;
    }
  }
  return false;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::string digest_hex(const EVP_MD* type, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, type, nullptr) != 1) {
    throw std::runtime_error("EVP_Digest failed");
  }
  std::string text;
  for (unsigned int i = 0; i < size; ++i) {
    text.push_back(kHexDigits[digest[i] >> 4]);
    text.push_back(kHexDigits[digest[i] & 0xf]);
  }
  return text;
}

std::tm utc_time(std::int64_t seconds) {
  const auto value = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&value, &utc);
  return utc;
}

}  // namespace

Response serve_entity(const Request& request, const Entity& entity) {
  Response response;
  response.headers = entity.headers;
  if (!entity.etag.empty()) {
    response.headers.emplace_back("ETag", entity.etag);
  }
  if (!entity.last_modified.empty()) {
    response.headers.emplace_back("Last-Modified", entity.last_modified);
  }
  response.headers.emplace_back("Accept-Ranges", "bytes");
  const auto if_match = header(request, "if-match");
  if (!if_match.empty() && !if_match_holds(if_match, entity.etag)) {
    response.status = 412;
    return response;
  }
  const auto if_none_match = header(request, "if-none-match");
  if (!if_none_match.empty() && if_none_match_matches(if_none_match, entity.etag)) {
    response.status = 304;
    return response;
  }
  response.headers.emplace_back("Content-Type", entity.content_type);
  const auto total = entity.body.size();
  const auto range = header(request, "range");
  const auto if_range = header(request, "if-range");
  const bool range_applies =
      !range.empty() &&
      (if_range.empty() || detail::if_range_matches(if_range, entity.etag, entity.last_modified));
  const auto answer = range_applies ? detail::parse_range(range, total) : detail::RangeAnswer{};
  if (answer.kind == detail::RangeKind::kUnsatisfiable) {
    response.status = 416;
    response.headers.emplace_back("Content-Range", "bytes */" + std::to_string(total));
    return response;
  }
  if (answer.kind == detail::RangeKind::kSatisfiable) {
    response.status = 206;
    response.headers.emplace_back("Content-Range", "bytes " + std::to_string(answer.span.first) +
                                                       "-" + std::to_string(answer.span.last) +
                                                       "/" + std::to_string(total));
    response.body = std::string(entity.body.substr(answer.span.first, answer.span.size()));
    return response;
  }
  response.body = std::string(entity.body);
  return response;
}

std::string header(const Request& request, std::string_view lower_name) {
  const auto it = request.headers.find(std::string(lower_name));
  return it == request.headers.end() ? std::string() : it->second;
}

std::optional<std::string> bearer_token(const Request& request) {
  const auto value = header(request, "authorization");
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() < kScheme.size() ||
      detail::to_lower(std::string_view(value).substr(0, kScheme.size())) != kScheme) {
    return std::nullopt;
  }
  return std::string(trim(std::string_view(value).substr(kScheme.size())));
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string decoded;
  decoded.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      if (i + 2 >= text.size()) {
        return std::nullopt;
      }
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) {
        return std::nullopt;
      }
      decoded.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (plus_is_space && text[i] == '+') {
      decoded.push_back(' ');
    } else {
      decoded.push_back(text[i]);
    }
  }
  return decoded;
}

std::string percent_encode(std::string_view text, bool keep_slash) {
  std::string encoded;
  for (const unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~' ||
        (keep_slash && c == '/')) {
      encoded.push_back(static_cast<char>(c));
    } else {
      encoded.push_back('%');
      encoded.push_back(static_cast<char>(std::toupper(kHexDigits[c >> 4])));
      encoded.push_back(static_cast<char>(std::toupper(kHexDigits[c & 0xf])));
    }
  }
  return encoded;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    const auto eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (name && value) {
      params.emplace_back(std::move(*name), std::move(*value));
    }
  }
  return params;
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  for (auto& [key, value] : parse_query(query)) {
    if (key == name) {
      return std::move(value);
    }
  }
  return std::nullopt;
}

std::string query_without(std::string_view query, std::string_view name) {
  std::string kept;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto key = pair.substr(0, pair.find('='));
    if (pair.empty() || percent_decode(key, true).value_or("") == name) {
      continue;
    }
    if (!kept.empty()) {
      kept.push_back('&');
    }
    kept.append(pair);
  }
  return kept;
}

std::string sha1_hex(std::string_view data) { return digest_hex(EVP_sha1(), data); }
std::string sha256_hex(std::string_view data) { return digest_hex(EVP_sha256(), data); }
std::string md5_hex(std::string_view data) { return digest_hex(EVP_md5(), data); }

std::uint32_t crc32(std::string_view data) {
  // Bitwise CRC-32 (IEEE, reflected); test files are small.
  std::uint32_t crc = 0xffffffffU;
  for (const unsigned char byte : data) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc >> 1) ^ (0xedb88320U & (0U - (crc & 1U)));
    }
  }
  return ~crc;
}

std::string random_hex(std::size_t bytes) {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  std::string text;
  for (std::size_t i = 0; i < bytes * 2; ++i) {
    text.push_back(kHexDigits[engine() % 16]);
  }
  return text;
}

std::string to_upper(std::string_view text) {
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return upper;
}

std::string base64_encode(std::string_view data) {
  std::string text;
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const auto n = (static_cast<unsigned char>(data[i]) << 16) |
                   (static_cast<unsigned char>(data[i + 1]) << 8) |
                   static_cast<unsigned char>(data[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) {
      text.push_back(kBase64[(n >> shift) & 0x3f]);
    }
  }
  if (const auto rest = data.size() - i; rest > 0) {
    auto n = static_cast<unsigned>(static_cast<unsigned char>(data[i])) << 16;
    if (rest == 2) {
      n |= static_cast<unsigned>(static_cast<unsigned char>(data[i + 1])) << 8;
    }
    text.push_back(kBase64[(n >> 18) & 0x3f]);
    text.push_back(kBase64[(n >> 12) & 0x3f]);
    text.push_back(rest == 2 ? kBase64[(n >> 6) & 0x3f] : '=');
    text.push_back('=');
  }
  return text;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string data;
  for (std::size_t i = 0; i < text.size(); i += 4) {
    unsigned n = 0;
    int padding = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      const auto value = kBase64.find(c);
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        ++padding;
        n <<= 6;
      } else if (value == std::string_view::npos || padding > 0) {
        return std::nullopt;
      } else {
        n = (n << 6) | static_cast<unsigned>(value);
      }
    }
    data.push_back(static_cast<char>((n >> 16) & 0xff));
    if (padding < 2) {
      data.push_back(static_cast<char>((n >> 8) & 0xff));
    }
    if (padding < 1) {
      data.push_back(static_cast<char>(n & 0xff));
    }
  }
  return data;
}

std::string xml_escape(std::string_view text) {
  std::string escaped;
  for (const char c : text) {
    switch (c) {
      case '&':
        escaped += "&amp;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      case '\'':
        escaped += "&apos;";
        break;
      default:
        escaped.push_back(c);
    }
  }
  return escaped;
}

Response s3_error(const Request& request, int status, std::string_view code,
                  std::string_view message, const HeaderList& fields) {
  const auto request_id = to_upper(random_hex(8));
  Response response;
  response.status = status;
  response.headers = {{"Content-Type", "application/xml"}, {"x-amz-request-id", request_id}};
  if (request.method == "HEAD") {
    return response;
  }
  auto& body = response.body;
  body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>";
  body.append(xml_escape(code)).append("</Code><Message>").append(xml_escape(message));
  body.append("</Message>");
  for (const auto& [name, value] : fields) {
    body.append("<").append(name).append(">").append(xml_escape(value));
    body.append("</").append(name).append(">");
  }
  body.append("<RequestId>").append(request_id).append("</RequestId><HostId>");
  body.append(base64_encode(random_hex(24))).append("</HostId></Error>");
  return response;
}

std::optional<Response> refuse_presigned_request(const Request& request) {
  if (request.method != "GET" && request.method != "HEAD") {
    return s3_error(request, 405, "MethodNotAllowed",
                    "The specified method is not allowed against this resource.");
  }
  if (const auto authorization = header(request, "authorization"); !authorization.empty()) {
    return s3_error(request, 400, "InvalidArgument",
                    "Only one auth mechanism allowed; only the X-Amz-Algorithm query "
                    "parameter, Signature query string parameter or the Authorization "
                    "header should be specified",
                    {{"ArgumentName", "Authorization"}, {"ArgumentValue", authorization}});
  }
  return std::nullopt;
}

Response json_response(int status, std::string body) {
  return Response{status, {{"Content-Type", "application/json; charset=utf-8"}}, std::move(body)};
}

std::string iso8601(std::int64_t seconds) {
  const auto utc = utc_time(seconds);
  std::array<char, 32> text{};
  std::snprintf(text.data(), text.size(), "%04d-%02d-%02dT%02d:%02d:%02d.000Z", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
  return text.data();
}

std::string imf_date(std::int64_t seconds) {
  return detail::http_date(std::chrono::system_clock::time_point(std::chrono::seconds(seconds)));
}

std::vector<std::string> split_path(std::string_view path) {
  if (path.starts_with('/')) {
    path.remove_prefix(1);
  }
  std::vector<std::string> segments;
  while (true) {
    const auto slash = path.find('/');
    segments.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) {
      return segments;
    }
    path.remove_prefix(slash + 1);
  }
}

}  // namespace haul::testing::fake
