// libFuzzer target for what users type that is not a source: URLs
// (src/net/url.hpp: parse_url, a Location resolved against a URL, the
// redacted forms used in messages, percent_encode) and the size and duration
// values of options (src/base/format.hpp). Sources themselves (hf://, s3://,
// CivitAI) are source_parsers' job.
//
// Input: one selector byte, then the text. Selector ('0' + n, taken mod 5):
//   0 parse_url           1 resolve_location against a fixed URL
//   2 redact_url, redact_secrets, percent_encode    3 parse_size, parse_duration
//   4 all of them
// Invariants: an accepted URL is http(s) with a lower-case host, a port in
// 0..65535, a path starting with '/', a normalised text free of control
// characters and spaces that parses again to the same URL, and a text with a
// NUL byte is refused; redaction is idempotent, leaves no fragment and no
// user:password@ (redact_url); percent_decode(percent_encode(x)) == x; a
// size or duration is within its documented range, a plain number of bytes
// is that number, and both read back the same.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/format.hpp"
#include "base/text.hpp"
#include "net/file_name.hpp"
#include "net/url.hpp"

namespace {

namespace net = haul::net;

void check(bool ok, const char* what, std::string_view input) {
  if (ok) return;
  std::fprintf(stderr, "user_input_fuzz: %s (input %zu bytes)\n", what, input.size());
  std::abort();
}

void check_url(const net::Url& url, std::string_view input) {
  check(url.scheme == "http" || url.scheme == "https", "scheme is not http(s)", input);
  check(!url.host.empty(), "URL without a host", input);
  for (const char c : url.host) check(!(c >= 'A' && c <= 'Z'), "host not lower-case", input);
  check(url.port >= 0 && url.port <= 65535, "port out of range", input);
  check(!url.path.empty() && url.path.front() == '/', "path does not start with '/'", input);
  check(url.text.starts_with(url.scheme + "://"), "text does not start with the scheme", input);
  for (const char c : url.text) {
    check(static_cast<unsigned char>(c) > 0x20 && c != 0x7F, "control character or space in URL",
          input);
  }
  auto again = net::parse_url(url.text);
  check(again.has_value(), "normalised URL refused", input);
  check(again->text == url.text && again->scheme == url.scheme && again->host == url.host &&
            again->port == url.port && again->path == url.path,
        "normalised URL parses differently", input);
}

void fuzz_parse(std::string_view text) {
  auto url = net::parse_url(text);
  if (!url) return;
  check(text.find('\0') == std::string_view::npos, "URL with a NUL byte accepted", text);
  check_url(*url, text);
}

void fuzz_resolve(std::string_view text) {
  static const auto base = net::parse_url("https://huggingface.co/org/repo/resolve/main/a.bin?x=1");
  auto url = net::resolve_location(*base, text);
  if (!url) return;
  check(text.find('\0') == std::string_view::npos, "Location with a NUL byte accepted", text);
  check_url(*url, text);
}

void fuzz_redact(std::string_view text) {
  const std::string redacted = net::redact_url(text);
  check(net::redact_url(redacted) == redacted, "redact_url is not idempotent", text);
  check(redacted.find('#') == std::string::npos, "redact_url keeps a fragment", text);
  const std::size_t scheme_end = redacted.find("://");
  const std::size_t authority = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const std::string_view host_part = std::string_view(redacted).substr(
      authority, redacted.find_first_of("/?", authority) - authority);
  check(host_part.find('@') == std::string_view::npos, "redact_url keeps user info", text);

  const std::string secret_free = net::redact_secrets(text);
  check(net::redact_secrets(secret_free) == secret_free, "redact_secrets is not idempotent", text);
  check(secret_free.find('#') == std::string::npos, "redact_secrets keeps a fragment", text);

  const std::string encoded = net::percent_encode(text);
  for (const char c : encoded) {
    check((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' ||
              c == '.' || c == '_' || c == '~' || c == '%',
          "percent_encode leaves a reserved character", text);
  }
  check(net::percent_decode(encoded) == text, "percent_decode(percent_encode(x)) != x", text);
}

void fuzz_values(std::string_view text) {
  if (auto size = haul::parse_size(text)) {
    check(*size < 18'000'000'000'000'000'000ULL, "size beyond the cap", text);
    // Plain digits are that many bytes (to a double's precision).
    if (!text.empty() && text.size() <= 25 &&
        text.find_first_not_of("0123456789") == std::string_view::npos) {
      const double expected = std::strtod(std::string(text).c_str(), nullptr);
      check(std::fabs(static_cast<double>(*size) - expected) <= expected * 1e-15 + 0.5,
            "size is not the number written", text);
    }
    if (*size <= (std::uint64_t{1} << 53)) {
      auto again = haul::parse_size(std::to_string(*size));
      check(again && *again == *size, "size does not read back", text);
    }
  }
  if (auto duration = haul::parse_duration(text)) {
    check(duration->count() >= 0 && duration->count() < 1'000'000'000'000'000LL,
          "duration out of range", text);
    auto again = haul::parse_duration(std::to_string(duration->count()) + "ms");
    check(again && *again == *duration, "duration does not read back", text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (static_cast<std::uint8_t>(data[0] - '0') % 5) {
    case 0:
      fuzz_parse(text);
      break;
    case 1:
      fuzz_resolve(text);
      break;
    case 2:
      fuzz_redact(text);
      break;
    case 3:
      fuzz_values(text);
      break;
    default:
      fuzz_parse(text);
      fuzz_resolve(text);
      fuzz_redact(text);
      fuzz_values(text);
      break;
  }
  return 0;
}
