#include "remote/progress/tqdm_parser.hpp"

#include <cmath>
#include <vector>

#include "base/text.hpp"
#include "remote/progress/text_fields.hpp"

namespace haul::remote::progress {

namespace {

using Kind = ProgressUpdate::Kind;

constexpr std::size_t kMaxRemembered = 256;

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// tqdm's format_sizeof prefixes, 1000-based: "", k, M, G, T, P, E, Z, Y.
int si_power(char c) {
  constexpr std::string_view kPrefixes = "kMGTPEZY";
  const std::size_t at = kPrefixes.find(c);
  return at == std::string_view::npos ? 0 : static_cast<int>(at) + 1;
}

// "126MiB" -> 126e6 with unit "iB"; "5.00kB" -> 5000, "B"; "2.38it" -> 2.38, "it".
// A prefix is only taken when a unit follows it.
std::optional<double> number_with_unit(std::string_view text, std::string& unit) {
  std::size_t end = 0;
  while (end < text.size() && (is_digit(text[end]) || text[end] == '.')) ++end;
  const auto number = parse_unsigned_decimal(text.substr(0, end));
  if (!number) return std::nullopt;
  std::string_view rest = text.substr(end);
  int power = 0;
  if (rest.size() >= 2 && si_power(rest[0]) > 0) {
    power = si_power(rest[0]);
    rest.remove_prefix(1);
  }
  unit = std::string(rest);
  return *number * std::pow(1000.0, power);
}

// "120MB/s", "60.9MiB/s", " 2.38it/s", "?B/s", "1.30s/iB" (slower than 1/s).
bool parse_rate(std::string_view token, TqdmFrame& frame) {
  token = trim(token);
  if (token.starts_with("?")) {
    if (!ends_with(token, "/s")) return false;
    frame.unit = std::string(token.substr(1, token.size() - 3));
    return true;
  }
  if (const std::size_t inverse = token.find("s/");
      inverse != std::string_view::npos && !ends_with(token, "/s")) {
    const auto seconds = parse_scaled(token.substr(0, inverse), 1000);
    if (!seconds) return false;
    frame.unit = std::string(token.substr(inverse + 2));
    if (*seconds > 0) frame.rate = 1.0 / *seconds;
    return true;
  }
  if (!ends_with(token, "/s")) return false;
  std::string unit;
  const auto rate = number_with_unit(token.substr(0, token.size() - 2), unit);
  if (!rate) return false;
  frame.rate = rate;
  frame.unit = unit;
  return true;
}

// "00:30<00:37, 120MB/s, key=value" or, without a total, "00:02, 61.7MiB/s".
bool parse_bracket(std::string_view content, TqdmFrame& frame) {
  const std::size_t comma = content.find(", ");
  const std::string_view times = content.substr(0, comma);
  const std::size_t lt = times.find('<');
  frame.elapsed_seconds = parse_clock(times.substr(0, lt));
  if (!frame.elapsed_seconds) return false;
  if (lt != std::string_view::npos) frame.remaining_seconds = parse_clock(times.substr(lt + 1));
  if (comma == std::string_view::npos) return true;
  std::string_view rate = content.substr(comma + 2);
  rate = rate.substr(0, rate.find(", "));  // a postfix may follow
  return parse_rate(rate, frame);
}

// "3.65G/8.12G" (unit_scale) or "5/12".
bool parse_counts(std::string_view counts, TqdmFrame& frame) {
  const std::size_t slash = counts.find('/');
  if (slash == std::string_view::npos) return false;
  frame.count = parse_scaled(trim(counts.substr(0, slash)), 1000);
  frame.total = parse_scaled(trim(counts.substr(slash + 1)), 1000);
  return frame.count && frame.total;
}

// hf_xet: "3.65GB / 8.12GB" then an optional postfix such as "120MB/s".
bool parse_xet_counts(std::string_view rest, TqdmFrame& frame) {
  const std::vector<Token> tokens = split_tokens(rest);
  if (tokens.size() < 3 || tokens[1].text != "/") return false;
  std::string unit_n;
  std::string unit_total;
  frame.count = number_with_unit(tokens[0].text, unit_n);
  frame.total = number_with_unit(tokens[2].text, unit_total);
  if (!frame.count || !frame.total || unit_n != "B" || unit_total != "B") return false;
  frame.unit = "B";
  if (tokens.size() > 3) {
    TqdmFrame rate;
    if (parse_rate(tokens[3].text, rate) && rate.unit == "B") frame.rate = rate.rate;
  }
  return true;
}

}  // namespace

std::optional<TqdmFrame> parse_tqdm_frame(std::string_view text) {
  text = trim(text);
  TqdmFrame frame;
  const std::size_t bar_open = text.find("%|");
  if (bar_open != std::string_view::npos) {
    std::size_t begin = bar_open;
    while (begin > 0 && is_digit(text[begin - 1])) --begin;
    frame.percent = parse_unsigned_decimal(text.substr(begin, bar_open - begin));
    if (!frame.percent) return std::nullopt;
    std::string_view head = trim(text.substr(0, begin));
    if (!head.empty()) {
      if (head.back() != ':') return std::nullopt;
      head.remove_suffix(1);
    }
    frame.description = std::string(trim(head));
    const std::size_t bar_close = text.find('|', bar_open + 2);
    if (bar_close == std::string_view::npos) return std::nullopt;
    const std::string_view rest = trim(text.substr(bar_close + 1));
    const std::size_t bracket = rest.find('[');
    if (bracket == std::string_view::npos) {
      if (!parse_xet_counts(rest, frame)) return std::nullopt;
      return frame;
    }
    if (rest.back() != ']' || !parse_counts(trim(rest.substr(0, bracket)), frame) ||
        !parse_bracket(rest.substr(bracket + 1, rest.size() - bracket - 2), frame)) {
      return std::nullopt;
    }
    frame.bracketed = true;
    return frame;
  }
  // Without a total: "Model: 126MiB [00:01, 69.8MiB/s]".
  if (text.empty() || text.back() != ']') return std::nullopt;
  const std::size_t bracket = text.rfind('[');
  if (bracket == std::string_view::npos) return std::nullopt;
  if (!parse_bracket(text.substr(bracket + 1, text.size() - bracket - 2), frame)) {
    return std::nullopt;
  }
  const std::string_view head = trim(text.substr(0, bracket));
  const std::size_t colon = head.rfind(": ");
  const std::string_view count = colon == std::string_view::npos ? head : head.substr(colon + 2);
  if (colon != std::string_view::npos) frame.description = std::string(trim(head.substr(0, colon)));
  std::string unit;
  frame.count = number_with_unit(count, unit);
  if (!frame.count || unit != frame.unit) return std::nullopt;
  frame.bracketed = true;
  return frame;
}

ProgressUpdate tqdm_update(const TqdmFrame& frame, std::string_view stage, std::string_view name) {
  ProgressUpdate u = make_update(Kind::kProgress, stage, name);
  u.percent = frame.percent;
  if (frame.bytes()) {
    if (frame.count) u.downloaded = to_byte_count(*frame.count);
    if (frame.total) u.total = to_byte_count(*frame.total);
    u.speed = frame.rate;
  }
  u.elapsed_seconds = frame.elapsed_seconds;
  u.remaining_seconds = frame.remaining_seconds;
  tidy(u);
  return u;
}

bool is_python_error_line(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 120) return false;
  const std::string_view name = text.substr(0, colon);
  for (char c : name) {
    const bool ok =
        c == '_' || c == '.' || is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!ok) return false;
  }
  return ends_with(name, "Error") || ends_with(name, "Exception");
}

bool TqdmParser::frame_complete(std::string_view pending) const {
  const auto frame = parse_tqdm_frame(pending);
  return frame && frame->bracketed;
}

void TqdmParser::on_line(const Line& line, std::vector<ProgressUpdate>& out) {
  const std::string_view text = trim(line.text);
  if (text.empty() || is_rule(text)) return;
  const auto frame = parse_tqdm_frame(text);
  if (!frame) {
    if (text.starts_with("Traceback (") || text.starts_with("File \"")) return;
    const bool error = is_python_error_line(text) || text.starts_with("Error: ");
    ProgressUpdate u = make_update(error ? Kind::kError : Kind::kMessage, "", "");
    u.message = clean_message(text);
    out.push_back(std::move(u));
    return;
  }
  const std::string& name = frame->description;
  const std::string_view stage = frame->bytes()                  ? "download"
                                 : name.starts_with("Fetching ") ? "files"
                                                                 : "run";
  const bool at_end = (frame->percent && *frame->percent >= 100) ||
                      (frame->count && frame->total && *frame->count >= *frame->total);
  auto bar = bars_.find(name);
  if (bar != bars_.end() && bar->second.completed && frame->count &&
      *frame->count < bar->second.last_count) {
    bars_.erase(bar);  // the same description counting from the start: a new bar
    bar = bars_.end();
  }
  if (bar == bars_.end()) {
    if (bars_.size() >= kMaxRemembered) bars_.erase(bars_.begin());
    bar = bars_.emplace(name, BarState{}).first;
    ProgressUpdate start = make_update(Kind::kStageStart, stage, name);
    if (frame->bytes() && frame->total) start.total = to_byte_count(*frame->total);
    out.push_back(std::move(start));
  }
  BarState& state = bar->second;
  if (state.completed) return;  // close() repeats the last frame
  state.last_count = frame->count.value_or(0);
  if (!line.already_seen) out.push_back(tqdm_update(*frame, stage, name));
  // close() ends the last frame with '\n'; a bar without a total ends when closed.
  const bool closed = line.end != LineEnd::kCarriageReturn;
  if (closed && (at_end || !frame->total)) {
    state.completed = true;
    ProgressUpdate done = tqdm_update(*frame, stage, name);
    done.kind = Kind::kStageComplete;
    out.push_back(std::move(done));
  }
}

}  // namespace haul::remote::progress
