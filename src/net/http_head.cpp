#include "net/http_head.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>

#include "base/text.hpp"

namespace haul::net {

namespace {

// Parses exactly `width` digits (or 1..width when width_min < width) at `s`.
std::optional<int> take_number(std::string_view& s, std::size_t min_digits,
                               std::size_t max_digits) {
  std::size_t n = 0;
  int value = 0;
  while (n < s.size() && n < max_digits && std::isdigit(static_cast<unsigned char>(s[n]))) {
    value = value * 10 + (s[n] - '0');
    ++n;
  }
  if (n < min_digits) return std::nullopt;
  s.remove_prefix(n);
  return value;
}

bool take_literal(std::string_view& s, std::string_view literal) {
  if (s.substr(0, literal.size()) != literal) return false;
  s.remove_prefix(literal.size());
  return true;
}

void skip_spaces(std::string_view& s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
}

std::optional<int> take_month(std::string_view& s) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() < 3) return std::nullopt;
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (iequals(s.substr(0, 3), kMonths[i])) {
      s.remove_prefix(3);
      return static_cast<int>(i);
    }
  }
  return std::nullopt;
}

// "HH:MM:SS"
bool take_clock(std::string_view& s, std::tm& tm) {
  auto h = take_number(s, 2, 2);
  if (!h || !take_literal(s, ":")) return false;
  auto m = take_number(s, 2, 2);
  if (!m || !take_literal(s, ":")) return false;
  auto sec = take_number(s, 2, 2);
  if (!sec) return false;
  tm.tm_hour = *h;
  tm.tm_min = *m;
  tm.tm_sec = *sec;
  return *h < 24 && *m < 60 && *sec <= 60;
}

}  // namespace

std::optional<std::string_view> ResponseHead::get(std::string_view lower_name) const {
  // The last one wins: walk from the end.
  // NOLINTNEXTLINE(modernize-loop-convert)
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    if (it->first == lower_name) return std::string_view(it->second);
  }
  return std::nullopt;
}

std::string ResponseHead::status_text() const {
  std::string text = std::to_string(status);
  std::string_view phrase = reason.empty() ? reason_phrase(status) : std::string_view(reason);
  if (!phrase.empty()) {
    text += ' ';
    text += phrase;
  }
  return text;
}

void ResponseHeadBuilder::add_line(std::string_view line) {
  if (line.substr(0, 5) == "HTTP/") {
    head_ = {};
    complete_ = false;
    // "HTTP/1.1 206 Partial Content" or "HTTP/2 200"
    std::string_view rest = line.substr(5);
    const std::size_t space = rest.find(' ');
    if (space == std::string_view::npos) return;
    rest = trim(rest.substr(space + 1));
    if (auto code = take_number(rest, 3, 3)) head_.status = *code;
    head_.reason = std::string(trim(rest));
    return;
  }
  const std::string_view trimmed = trim(line);
  if (trimmed.empty()) {
    complete_ = head_.status != 0;
    return;
  }
  const std::size_t colon = trimmed.find(':');
  if (colon == std::string_view::npos) return;
  const std::string_view name = trim(trimmed.substr(0, colon));
  // A name is a token: no blanks or control bytes (RFC 9110 5.1).
  if (name.empty() || std::any_of(name.begin(), name.end(), [](char c) {
        return static_cast<unsigned char>(c) <= ' ' || c == 0x7F;
      })) {
    return;
  }
  head_.headers.emplace_back(to_lower(name), std::string(trim(trimmed.substr(colon + 1))));
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 410:
      return "Gone";
    case 416:
      return "Range Not Satisfiable";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

std::optional<std::uint64_t> parse_decimal(std::string_view value) {
  value = trim(value);
  if (value.empty() || value.size() > 20) return std::nullopt;
  std::uint64_t result = 0;
  for (char c : value) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
    if (result > (UINT64_MAX - digit) / 10) return std::nullopt;
    result = result * 10 + digit;
  }
  return result;
}

std::optional<ContentRange> parse_content_range(std::string_view value) {
  value = trim(value);
  if (value.size() < 6 || !iequals(value.substr(0, 6), "bytes ")) return std::nullopt;
  value = trim(value.substr(6));
  const std::size_t slash = value.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view span = trim(value.substr(0, slash));
  const std::string_view length = trim(value.substr(slash + 1));

  ContentRange range;
  if (length != "*") {
    range.complete_length = parse_decimal(length);
    if (!range.complete_length) return std::nullopt;
  }
  if (span == "*") {
    if (!range.complete_length) return std::nullopt;  // "bytes */*" says nothing
    return range;
  }
  const std::size_t dash = span.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  range.first = parse_decimal(span.substr(0, dash));
  range.last = parse_decimal(span.substr(dash + 1));
  if (!range.first || !range.last || *range.last < *range.first) return std::nullopt;
  if (range.complete_length && *range.last >= *range.complete_length) return std::nullopt;
  return range;
}

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view value) {
  std::string_view s = trim(value);
  std::tm tm{};
  const std::size_t comma = s.find(',');
  if (comma != std::string_view::npos) {
    s = s.substr(comma + 1);
    skip_spaces(s);
    auto day = take_number(s, 1, 2);
    if (!day) return std::nullopt;
    tm.tm_mday = *day;
    const bool rfc850 = take_literal(s, "-");
    if (!rfc850 && !take_literal(s, " ")) return std::nullopt;
    auto month = take_month(s);
    if (!month) return std::nullopt;
    tm.tm_mon = *month;
    if (!take_literal(s, rfc850 ? "-" : " ")) return std::nullopt;
    const std::size_t before = s.size();
    auto year = take_number(s, 2, 4);
    if (!year) return std::nullopt;
    // RFC 850 two-digit years ("94"), not four-digit ones that merely look
    // small ("0001"); RFC 9110 maps them to the nearest past century.
    const bool two_digits = before - s.size() == 2;
    tm.tm_year = (two_digits ? (*year < 70 ? 2000 + *year : 1900 + *year) : *year) - 1900;
    if (!take_literal(s, " ") || !take_clock(s, tm)) return std::nullopt;
    skip_spaces(s);
    if (!iequals(s, "GMT") && !iequals(s, "UTC")) return std::nullopt;
  } else {
    // asctime: "Sun Nov  6 08:49:37 1994"
    if (s.size() < 4) return std::nullopt;
    s.remove_prefix(4);
    auto month = take_month(s);
    if (!month) return std::nullopt;
    tm.tm_mon = *month;
    skip_spaces(s);
    auto day = take_number(s, 1, 2);
    if (!day || !take_literal(s, " ") || !take_clock(s, tm)) return std::nullopt;
    tm.tm_mday = *day;
    skip_spaces(s);
    auto year = take_number(s, 4, 4);
    if (!year || !trim(s).empty()) return std::nullopt;
    tm.tm_year = *year - 1900;
  }
  // system_clock counts nanoseconds in 64 bits: about 1678 to 2262. Dates
  // outside a sane window are garbage anyway.
  if (tm.tm_year < 1900 - 1900 || tm.tm_year > 2200 - 1900) return std::nullopt;
  if (tm.tm_mday < 1 || tm.tm_mday > 31) return std::nullopt;
  const int day = tm.tm_mday;
  const int month = tm.tm_mon;
  const std::time_t t = timegm(&tm);
  // timegm() rolls "31 Feb" into March; such a date is not a date.
  if (t == static_cast<std::time_t>(-1) || tm.tm_mday != day || tm.tm_mon != month)
    return std::nullopt;
  return std::chrono::system_clock::from_time_t(t);
}

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
  using std::chrono::milliseconds;
  // A week is already absurd for a download; larger values would overflow.
  constexpr std::uint64_t kMaxSeconds = 7ull * 24 * 3600;
  if (auto seconds = parse_decimal(value)) {
    return milliseconds(std::min(*seconds, kMaxSeconds) * 1000);
  }
  if (auto when = parse_http_date(value)) {
    if (*when <= now) return milliseconds(0);
    auto delta = std::chrono::duration_cast<milliseconds>(*when - now);
    return std::min(delta, milliseconds(kMaxSeconds * 1000));
  }
  return std::nullopt;
}

}  // namespace haul::net
