#include "net/url.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace haul::net {

namespace {

struct UrlHandleDeleter {
  void operator()(CURLU* handle) const { curl_url_cleanup(handle); }
};
using UrlHandle = std::unique_ptr<CURLU, UrlHandleDeleter>;

std::string get_part(CURLU* handle, CURLUPart part, unsigned flags = 0) {
  char* value = nullptr;
  if (curl_url_get(handle, part, &value, flags) != CURLUE_OK || value == nullptr) return "";
  std::string out(value);
  curl_free(value);
  return out;
}

Result<Url> from_handle(CURLU* handle, std::string_view original) {
  Url url;
  url.scheme = get_part(handle, CURLUPART_SCHEME);
  if (url.scheme != "http" && url.scheme != "https") {
    return fail(ErrorCode::kInvalidArgument,
                "invalid URL '" + redact_url(original) + "': only http and https are supported");
  }
  url.host = get_part(handle, CURLUPART_HOST);
  for (char& c : url.host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (url.host.empty()) {
    return fail(ErrorCode::kInvalidArgument, "invalid URL '" + redact_url(original) + "': no host");
  }
  const std::string port = get_part(handle, CURLUPART_PORT, CURLU_DEFAULT_PORT);
  url.port = port.empty() ? 0 : std::stoi(port);
  url.path = get_part(handle, CURLUPART_PATH);
  url.text = get_part(handle, CURLUPART_URL);
  // libcurl decodes a percent-encoded host ("%7f"): a control character or
  // a blank there is no host anyone can reach, and would end up in logs.
  const bool unprintable = std::any_of(url.text.begin(), url.text.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
  });
  if (unprintable) {
    return fail(ErrorCode::kInvalidArgument,
                "invalid URL '" + redact_url(original) + "': a control character or blank in it");
  }
  return url;
}

Result<Url> parse_once(std::string_view text) {
  // libcurl reads a C string: a NUL would cut the URL short, and the part
  // before it would pass for the whole.
  if (text.find('\0') != std::string_view::npos) {
    return fail(ErrorCode::kInvalidArgument, "invalid URL '" +
                                                 redact_url(text.substr(0, text.find('\0'))) +
                                                 "...': it contains a NUL byte");
  }
  UrlHandle handle(curl_url());
  const std::string input(text);
  const CURLUcode rc = curl_url_set(handle.get(), CURLUPART_URL, input.c_str(), 0);
  if (rc != CURLUE_OK) {
    return fail(ErrorCode::kInvalidArgument,
                "invalid URL '" + redact_url(text) + "': " + curl_url_strerror(rc));
  }
  return from_handle(handle.get(), text);
}

}  // namespace

std::string Url::origin() const { return scheme + "://" + host + ":" + std::to_string(port); }

Result<Url> parse_url(std::string_view text) {
  auto url = parse_once(text);
  if (!url) return url;
  // libcurl decodes a percent-encoded host without reading it as a number
  // ("http:/%300" gives host "00"); parsing that text again reads "00" as
  // 0.0.0.0. Parse once more so a URL and its own text give one spelling.
  return parse_once(url->text);
}

Result<Url> resolve_location(const Url& base, std::string_view location) {
  UrlHandle handle(curl_url());
  if (curl_url_set(handle.get(), CURLUPART_URL, base.text.c_str(), 0) != CURLUE_OK) {
    return fail(ErrorCode::kInternal, "cannot re-parse " + redact_url(base.text));
  }
  if (location.find('\0') != std::string_view::npos) {
    return fail(ErrorCode::kProtocol,
                "bad redirect Location from " + redact_url(base.text) + ": it contains a NUL byte");
  }
  const std::string target(location);
  const CURLUcode rc = curl_url_set(handle.get(), CURLUPART_URL, target.c_str(), 0);
  if (rc != CURLUE_OK) {
    return fail(ErrorCode::kProtocol, "bad redirect Location '" + redact_url(location) + "' from " +
                                          redact_url(base.text) + ": " + curl_url_strerror(rc));
  }
  auto url = from_handle(handle.get(), location);
  if (!url) return url;
  // libcurl leaves a host it percent-decoded while resolving as it is
  // ("//%34/x" gives host "4"), where parsing the URL gives "0.0.0.4": parse
  // it once more so both roads give one spelling (and one origin).
  auto canonical = parse_url(url->text);
  if (!canonical) {
    return fail(ErrorCode::kProtocol, "bad redirect Location '" + redact_url(location) + "' from " +
                                          redact_url(base.text) + ": " + canonical.error().message);
  }
  return canonical;
}

std::string redact_url(std::string_view text) {
  std::string out(text.substr(0, text.find_first_of("?#")));
  const std::size_t query = text.find('?');
  // Drop user:password@ from the authority, scheme or not.
  const std::size_t scheme_end = out.find("://");
  const std::size_t authority = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const std::size_t path = out.find('/', authority);
  const std::size_t at = out.rfind('@', path == std::string::npos ? out.size() : path);
  if (at != std::string::npos && at >= authority) out.erase(authority, at + 1 - authority);
  if (query != std::string_view::npos) out += "?...";
  return out;
}

namespace {

bool secret_parameter(std::string_view name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static constexpr std::string_view kMarkers[] = {"token",      "key",      "secret", "signature",
                                                  "sig",        "password", "passwd", "auth",
                                                  "credential", "x-amz-"};
  for (std::string_view marker : kMarkers) {
    if (lower.find(marker) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

std::string redact_secrets(std::string_view text) {
  const std::size_t fragment = text.find('#');
  std::string_view head = text.substr(0, fragment);
  const std::size_t question = head.find('?');
  std::string out(head.substr(0, question));
  // user:password@ -> user:REDACTED@
  const std::size_t scheme_end = out.find("://");
  const std::size_t authority = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const std::size_t path = out.find('/', authority);
  const std::size_t at = out.rfind('@', path == std::string::npos ? out.size() : path);
  if (at != std::string::npos && at >= authority) {
    const std::size_t colon = out.find(':', authority);
    if (colon != std::string::npos && colon < at)
      out.replace(colon + 1, at - colon - 1, "REDACTED");
  }
  if (question != std::string_view::npos) {
    std::string_view query = head.substr(question + 1);
    out += '?';
    bool first = true;
    while (true) {
      const std::size_t amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      const std::size_t eq = pair.find('=');
      if (!first) out += '&';
      first = false;
      if (eq != std::string_view::npos && secret_parameter(pair.substr(0, eq))) {
        out.append(pair.substr(0, eq + 1)).append("REDACTED");
      } else {
        out.append(pair);
      }
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0F];
    }
  }
  return out;
}

}  // namespace haul::net
