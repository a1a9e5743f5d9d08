#include "support/http_wire.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <ctime>

namespace haul::testing::detail {
namespace {

constexpr std::string_view kWhitespace = " \t";

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(kWhitespace);
  return text.substr(first, last - first + 1);
}

bool starts_with_icase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && to_lower(text.substr(0, prefix.size())) == prefix;
}

// Splits on '\n' and drops a trailing '\r' from each line.
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    auto line = text.substr(0, end);
    if (line.ends_with('\r')) {
      line.remove_suffix(1);
    }
    lines.push_back(line);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  }
  return lines;
}

// A whole-string decimal number; nullopt for empty or non-digit input.
std::optional<std::size_t> parse_number(std::string_view text) {
  std::size_t value = 0;
  const auto* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  if (text.empty() || result.ec != std::errc{} || result.ptr != end) {
    return std::nullopt;
  }
  return value;
}

// Fills path, query and absolute_form from a request-target.
void split_target(std::string_view target, ParsedRequest& request) {
  if (starts_with_icase(target, "http://") || starts_with_icase(target, "https://")) {
    request.absolute_form = true;
    const auto path_start = target.find_first_of("/?", target.find("://") + 3);
    target = path_start == std::string_view::npos ? std::string_view{} : target.substr(path_start);
  }
  const auto question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) {
    request.query = std::string(target.substr(question + 1));
  }
  if (request.path.empty()) {
    request.path = "/";
  }
}

// "METHOD SP request-target SP HTTP/1.x".
bool parse_request_line(std::string_view line, ParsedRequest& request) {
  const auto first_space = line.find(' ');
  const auto last_space = line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) {
    return false;
  }
  const auto target = line.substr(first_space + 1, last_space - first_space - 1);
  const auto version = line.substr(last_space + 1);
  if (first_space == 0 || target.empty() || target.find(' ') != std::string_view::npos) {
    return false;
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    return false;
  }
  request.method = std::string(line.substr(0, first_space));
  request.http10 = version == "HTTP/1.0";
  split_target(target, request);
  return true;
}

// "name: value"; repeated names are joined with ", " as RFC 9110 allows.
bool add_header_line(std::string_view line, std::map<std::string, std::string>& headers) {
  const auto colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) {
    return false;
  }
  const auto name = line.substr(0, colon);
  if (name.find_first_of(kWhitespace) != std::string_view::npos) {
    return false;
  }
  const auto value = trim(line.substr(colon + 1));
  auto [it, inserted] = headers.try_emplace(to_lower(name), value);
  if (!inserted) {
    it->second.append(", ").append(value);
  }
  return true;
}

}  // namespace

std::string ParsedRequest::header(std::string_view lower_name) const {
  const auto it = headers.find(std::string(lower_name));
  return it == headers.end() ? std::string{} : it->second;
}

bool ParsedRequest::wants_close() const {
  const auto connection = to_lower(header("connection"));
  if (http10) {
    return connection.find("keep-alive") == std::string::npos;
  }
  return connection.find("close") != std::string::npos;
}

std::optional<ParsedRequest> parse_request_head(std::string_view head) {
  auto lines = split_lines(head);
  // RFC 9112 2.2: ignore empty lines before the request line.
  const auto first = std::find_if(lines.begin(), lines.end(), [](auto l) { return !l.empty(); });
  if (first == lines.end()) {
    return std::nullopt;
  }
  ParsedRequest request;
  if (!parse_request_line(*first, request)) {
    return std::nullopt;
  }
  for (auto line = first + 1; line != lines.end(); ++line) {
    if (!add_header_line(*line, request.headers)) {
      return std::nullopt;
    }
  }
  return request;
}

RangeAnswer parse_range(std::string_view value, std::size_t length) {
  constexpr std::string_view kUnit = "bytes=";
  constexpr RangeAnswer kUnsatisfiable{RangeKind::kUnsatisfiable, {}};
  value = trim(value);
  if (!starts_with_icase(value, kUnit)) {
    return {};
  }
  const auto spec = trim(value.substr(kUnit.size()));
  const auto dash = spec.find('-');
  if (spec.find(',') != std::string_view::npos || dash == std::string_view::npos) {
    return {};
  }
  const auto first = parse_number(trim(spec.substr(0, dash)));
  const auto last = parse_number(trim(spec.substr(dash + 1)));
  if (dash == 0) {  // suffix range "-n": the last n bytes
    if (!last) {
      return {};
    }
    if (*last == 0 || length == 0) {
      return kUnsatisfiable;
    }
    return {RangeKind::kSatisfiable, {length - std::min(*last, length), length - 1}};
  }
  const bool open_ended = trim(spec.substr(dash + 1)).empty();
  if (!first || (!open_ended && (!last || *last < *first))) {
    return {};  // syntactically invalid ranges are ignored (RFC 9110 14.2)
  }
  if (*first >= length) {
    return kUnsatisfiable;
  }
  return {RangeKind::kSatisfiable, {*first, open_ended ? length - 1 : std::min(*last, length - 1)}};
}

bool if_range_matches(std::string_view if_range, std::string_view etag,
                      std::string_view last_modified) {
  if_range = trim(if_range);
  if (if_range.starts_with("W/")) {
    return false;
  }
  if (if_range.starts_with('"')) {
    return !etag.starts_with("W/") && if_range == etag;
  }
  return !last_modified.empty() && if_range == last_modified;
}

std::string http_date(std::chrono::system_clock::time_point when) {
  // Names spelled out so the result does not depend on the C locale.
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 40> text{};
  std::snprintf(text.data(), text.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                kDays.at(utc.tm_wday), utc.tm_mday, kMonths.at(utc.tm_mon), utc.tm_year + 1900,
                utc.tm_hour, utc.tm_min, utc.tm_sec);
  return text.data();
}

std::string strong_etag(std::string_view body) {
  // FNV-1a 64: stable across runs and platforms, plenty for telling versions apart.
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const unsigned char byte : body) {
    hash = (hash ^ byte) * 0x100000001b3ULL;
  }
  std::array<char, 24> text{};
  std::snprintf(text.data(), text.size(), "\"%016llx\"", static_cast<unsigned long long>(hash));
  return text.data();
}

std::string_view reason_phrase(int status) {
  static constexpr std::pair<int, std::string_view> kReasons[] = {
      {100, "Continue"},
      {200, "OK"},
      {201, "Created"},
      {204, "No Content"},
      {206, "Partial Content"},
      {301, "Moved Permanently"},
      {302, "Found"},
      {303, "See Other"},
      {304, "Not Modified"},
      {307, "Temporary Redirect"},
      {308, "Permanent Redirect"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {408, "Request Timeout"},
      {410, "Gone"},
      {412, "Precondition Failed"},
      {416, "Range Not Satisfiable"},
      {429, "Too Many Requests"},
      {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"},
  };
  const auto* found = std::find_if(std::begin(kReasons), std::end(kReasons),
                                   [status](const auto& entry) { return entry.first == status; });
  return found == std::end(kReasons) ? "Unknown" : found->second;
}

std::string format_response_head(int status, const HeaderList& headers) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " ";
  head.append(reason_phrase(status)).append("\r\n");
  for (const auto& [name, value] : headers) {
    head.append(name).append(": ").append(value).append("\r\n");
  }
  head.append("\r\n");
  return head;
}

bool has_header(const HeaderList& headers, std::string_view name) {
  const auto lower = to_lower(name);
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& header) { return to_lower(header.first) == lower; });
}

std::string to_lower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

}  // namespace haul::testing::detail
