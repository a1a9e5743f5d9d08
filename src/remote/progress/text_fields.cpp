#include "remote/progress/text_fields.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <string_view>

#include "base/text.hpp"

namespace haul::remote::progress {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t'; }

// "kKMGTPEZY" -> power of the base; 0 when `c` is no prefix.
int prefix_power(char c) {
  constexpr std::string_view kPrefixes = "KMGTPEZY";
  if (c == 'k') return 1;
  const std::size_t at = kPrefixes.find(c);
  return at == std::string_view::npos ? 0 : static_cast<int>(at) + 1;
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

}  // namespace

std::vector<Token> split_tokens(std::string_view text) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    if (i == text.size()) break;
    const std::size_t begin = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    tokens.push_back(Token{text.substr(begin, i - begin), begin, i});
  }
  return tokens;
}

std::optional<double> parse_unsigned_decimal(std::string_view text) {
  if (text.empty() || text.size() > 40) return std::nullopt;
  bool dot = false;
  bool digit = false;
  for (char c : text) {
    if (is_digit(c)) {
      digit = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      return std::nullopt;
    }
  }
  if (!digit) return std::nullopt;
  double value = 0;
  // from_chars is locale-independent, unlike strtod: "1.46" stays 1.46 under any LC_NUMERIC.
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<double> parse_scaled(std::string_view text, double base) {
  if (text.empty()) return std::nullopt;
  int power = prefix_power(text.back());
  if (power > 0) text.remove_suffix(1);
  const auto number = parse_unsigned_decimal(text);
  if (!number) return std::nullopt;
  return *number * std::pow(base, power);
}

std::optional<std::uint64_t> to_byte_count(double value) {
  // 1.8e19 is just below 2^64; beyond it a cast would be undefined.
  if (!std::isfinite(value) || value < 0 || value >= 1.8e19) return std::nullopt;
  return static_cast<std::uint64_t>(std::llround(value));
}

std::optional<std::int64_t> parse_clock(std::string_view text) {
  text = trim(text);
  std::int64_t parts[3] = {0, 0, 0};
  int count = 0;
  std::size_t i = 0;
  while (true) {
    if (count == 3) return std::nullopt;
    const std::size_t begin = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    if (i == begin || i - begin > 6) return std::nullopt;
    std::from_chars(text.data() + begin, text.data() + i, parts[count]);
    ++count;
    if (i == text.size()) break;
    if (text[i] != ':') return std::nullopt;
    ++i;
  }
  if (count < 2) return std::nullopt;
  if (count == 2) return parts[0] * 60 + parts[1];
  return parts[0] * 3600 + parts[1] * 60 + parts[2];
}

std::optional<std::int64_t> parse_unit_duration(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  double seconds = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    const std::size_t begin = i;
    while (i < text.size() && (is_digit(text[i]) || text[i] == '.')) ++i;
    const auto number = parse_unsigned_decimal(text.substr(begin, i - begin));
    if (!number || i == text.size()) return std::nullopt;
    switch (text[i]) {
      case 'd':
        seconds += *number * 86400;
        break;
      case 'h':
        seconds += *number * 3600;
        break;
      case 'm':
        seconds += *number * 60;
        break;
      case 's':
        seconds += *number;
        break;
      default:
        return std::nullopt;
    }
    ++i;
  }
  if (!std::isfinite(seconds) || seconds > 1e15) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(seconds));
}

std::optional<double> find_percent(std::string_view text) {
  std::optional<double> found;
  for (std::size_t at = text.find('%'); at != std::string_view::npos; at = text.find('%', at + 1)) {
    std::size_t begin = at;
    while (begin > 0 && (is_digit(text[begin - 1]) || text[begin - 1] == '.')) --begin;
    // "a1%": a number glued to a word is not a percentage.
    if (begin > 0 && (std::isalpha(static_cast<unsigned char>(text[begin - 1])) != 0)) continue;
    const auto value = parse_unsigned_decimal(text.substr(begin, at - begin));
    if (value && *value <= 100) found = value;
  }
  return found;
}

std::string_view unquote_name(std::string_view text) {
  text = trim(text);
  for (std::string_view quote :
       {"'", "\"", "`", "\xE2\x80\x98", "\xE2\x80\x99", "\xE2\x80\x9C", "\xE2\x80\x9D"}) {
    if (text.starts_with(quote)) text.remove_prefix(quote.size());
    if (text.ends_with(quote)) text.remove_suffix(quote.size());
  }
  return text;
}

std::string_view base_name(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string clean_message(std::string_view text) {
  text = trim(text);
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::string_view rest = text.substr(i);
    if (starts_with_ci(rest, "http://") || starts_with_ci(rest, "https://")) {
      std::size_t end = 0;
      while (end < rest.size() && !is_space(rest[end]) && rest[end] != '\'' && rest[end] != '"') {
        ++end;
      }
      const std::string_view url = rest.substr(0, end);
      out.append(url.substr(0, url.find_first_of("?#")));
      i += end;
      continue;
    }
    out.push_back(text[i]);
    ++i;
  }
  if (out.size() > ProgressUpdate::kMaxMessageBytes) {
    std::size_t cut = ProgressUpdate::kMaxMessageBytes;
    // Back up over UTF-8 continuation bytes so the message stays valid text.
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

bool is_rule(std::string_view text) {
  text = trim(text);
  if (text.empty()) return false;
  for (char c : text) {
    if (c != '-' && c != '=' && c != '*' && c != '+' && c != '|' && c != ' ') return false;
  }
  return true;
}

ProgressUpdate make_update(ProgressUpdate::Kind kind, std::string_view stage,
                           std::string_view name) {
  ProgressUpdate update;
  update.kind = kind;
  update.stage = std::string(stage);
  update.name = std::string(name);
  return update;
}

void tidy(ProgressUpdate& update) {
  if (update.percent) {
    if (!std::isfinite(*update.percent)) {
      update.percent.reset();
    } else if (*update.percent < 0) {
      update.percent = 0.0;
    } else if (*update.percent > 100) {
      update.percent = 100.0;
    }
  }
  if (update.speed && (!std::isfinite(*update.speed) || *update.speed < 0)) update.speed.reset();
  if (update.elapsed_seconds && *update.elapsed_seconds < 0) update.elapsed_seconds.reset();
  if (update.remaining_seconds && *update.remaining_seconds < 0) update.remaining_seconds.reset();
  if (update.downloaded && update.total && *update.downloaded > *update.total) {
    update.downloaded = update.total;
  }
}

}  // namespace haul::remote::progress
