#include "remote/progress/wget_parser.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "base/text.hpp"
#include "remote/progress/text_fields.hpp"

namespace haul::remote::progress {

namespace {

using Kind = ProgressUpdate::Kind;

constexpr std::string_view kStage = "download";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// wget's dot styles: dots per cluster, dots per row, bytes per dot.
struct DotStyle {
  std::size_t spacing;
  std::size_t dots_in_line;
  std::uint64_t dot_bytes;
};
constexpr DotStyle kDotStyles[] = {
    {10, 50, 1024},    // default
    {16, 48, 8192},    // binary
    {8, 48, 65536},    // mega
    {8, 32, 1048576},  // giga
};

// The style whose layout fits a row: a row's dot area (clusters, each a space
// and `spacing` dots, padded with spaces on the last row) is
// dots_in_line / spacing * (spacing + 1) columns, plus at most 2 columns of
// padding from the right-aligned number that follows it.
const DotStyle* match_style(std::size_t first_run, bool several_clusters, std::size_t dots,
                            std::size_t area_width) {
  const DotStyle* found = nullptr;
  for (const DotStyle& style : kDotStyles) {
    if (several_clusters ? first_run != style.spacing : first_run > style.spacing) continue;
    const std::size_t width = style.dots_in_line / style.spacing * (style.spacing + 1);
    if (dots > style.dots_in_line || area_width < width || area_width > width + 2) continue;
    if (found != nullptr) return nullptr;  // ambiguous
    found = &style;
  }
  return found;
}

// "1.46MB/s", "1023KB/s", "2.5Mb/s" (--report-speed=bits): bytes per second.
// "500 B/s" arrives as two tokens; the caller joins them.
std::optional<double> parse_rate(std::string_view token) {
  double per_byte = 1;
  if (token.size() > 3 && token.substr(token.size() - 3) == "B/s") {
    token.remove_suffix(3);
  } else if (token.size() > 3 && token.substr(token.size() - 3) == "b/s") {
    token.remove_suffix(3);
    per_byte = 1.0 / 8;
  } else {
    return std::nullopt;
  }
  const auto value = parse_scaled(trim(token), 1024);
  if (!value) return std::nullopt;
  return *value * per_byte;
}

}  // namespace

WgetParser::WgetParser(std::string name_hint) : name_(std::move(name_hint)) {}

ProgressUpdate WgetParser::update(Kind kind) const {
  ProgressUpdate u = make_update(kind, kStage, name_);
  u.total = total_;
  return u;
}

void WgetParser::on_line(const Line& line, std::vector<ProgressUpdate>& out) {
  const std::string_view text = trim(line.text);
  if (text.empty() || is_rule(text)) return;
  if (text.starts_with("--") && text.find("--  ") != std::string_view::npos) {
    // "--2026-11-22 02:31:18--  URL": a new request; its size is not known yet.
    total_.reset();
    dot_bytes_.reset();
    last_row_start_.reset();
    previous_dots_ = 0;
    const std::string_view url = trim(text.substr(text.find("--  ") + 4));
    const std::string_view path = url.substr(0, url.find_first_of("?#"));
    if (path.find("://") != std::string_view::npos &&
        path.find('/', path.find("://") + 3) != std::string_view::npos &&
        !base_name(path).empty()) {
      name_ = std::string(base_name(path));
    }
  } else if (text.starts_with("Length: ")) {
    length_line(text.substr(8));
    return;
  } else if (text.starts_with("Saving to: ")) {
    name_ = std::string(base_name(unquote_name(text.substr(11))));
    out.push_back(update(Kind::kStageStart));
    return;
  } else if (dot_row(line.text, out) || bar_frame(line.text, out) || saved_line(text, out) ||
             error_line(text, out)) {
    return;
  } else if (text.find("already fully retrieved") != std::string_view::npos) {
    ProgressUpdate u = update(Kind::kStageComplete);
    u.percent = 100.0;
    out.push_back(std::move(u));
    return;
  }
  ProgressUpdate u = update(Kind::kMessage);
  u.total.reset();
  u.message = clean_message(text);
  out.push_back(std::move(u));
}

void WgetParser::length_line(std::string_view value) {
  // "6000000 (5.7M) [type]", "unspecified [type]", "N (X), M (Y) remaining".
  total_.reset();
  std::size_t end = 0;
  std::string digits;
  while (end < value.size() && (is_digit(value[end]) || value[end] == ',')) {
    if (value[end] != ',') digits.push_back(value[end]);
    ++end;
  }
  if (const auto number = parse_unsigned_decimal(digits)) total_ = to_byte_count(*number);
}

bool WgetParser::dot_row(std::string_view text, std::vector<ProgressUpdate>& out) {
  // "  5850K .........                     100%  226M=2.8s"
  std::size_t i = 0;
  while (i < text.size() && text[i] == ' ') ++i;
  const std::size_t digits_begin = i;
  while (i < text.size() && is_digit(text[i])) ++i;
  if (i == digits_begin || i + 1 >= text.size() || text[i] != 'K' || text[i + 1] != ' ') {
    return false;
  }
  const auto start_k = parse_unsigned_decimal(text.substr(digits_begin, i - digits_begin));
  ++i;
  const std::size_t area_begin = i;
  std::size_t dots = 0;
  std::size_t first_run = 0;
  std::size_t clusters = 0;
  bool in_run = false;
  while (i < text.size() && (text[i] == ' ' || text[i] == '.' || text[i] == ',')) {
    if (text[i] == ' ') {
      in_run = false;
    } else {
      if (!in_run) ++clusters;
      in_run = true;
      ++dots;
      if (clusters == 1) ++first_run;
    }
    ++i;
  }
  if (dots == 0 || !start_k) return false;
  const std::size_t area_width = i - area_begin;
  const std::vector<Token> stats = split_tokens(text.substr(i));
  if (stats.empty()) return false;

  ProgressUpdate u = update(Kind::kProgress);
  std::size_t k = 0;
  if (stats[k].text.back() == '%') {
    const auto pct = parse_unsigned_decimal(stats[k].text.substr(0, stats[k].text.size() - 1));
    if (!pct) return false;
    u.percent = pct;
    ++k;
  }
  bool last_row = false;
  if (k < stats.size()) {
    std::string_view speed = stats[k].text;
    const std::size_t eq = speed.find('=');
    if (eq != std::string_view::npos) {  // last row: "226M=2.8s"
      u.elapsed_seconds = parse_unit_duration(speed.substr(eq + 1));
      speed = speed.substr(0, eq);
      last_row = true;
    }
    if (!speed.empty()) {
      const auto rate = parse_scaled(speed, 1024);
      if (!rate) return false;
      u.speed = rate;
    }
    ++k;
  }
  if (k < stats.size()) {
    if (stats[k].text.front() == '=') {  // unit-less speed: "500 =2.8s"
      u.elapsed_seconds = parse_unit_duration(stats[k].text.substr(1));
      last_row = true;
    } else {
      u.remaining_seconds = parse_unit_duration(stats[k].text);
    }
  }

  const auto row_start_bytes = to_byte_count(*start_k * 1024);
  if (!row_start_bytes) return false;
  const std::uint64_t row_start = *row_start_bytes;
  if (const DotStyle* style = match_style(first_run, clusters > 1, dots, area_width)) {
    dot_bytes_ = style->dot_bytes;
  } else if (!dot_bytes_ && last_row_start_ && row_start > *last_row_start_ && dots > 0) {
    // Not one of the four styles (a .wgetrc dot_bytes setting): a full row
    // holds the bytes between two row offsets.
    dot_bytes_ = (row_start - *last_row_start_) / std::max<std::size_t>(previous_dots_, 1);
  }
  last_row_start_ = row_start;
  previous_dots_ = dots;
  u.downloaded =
      to_byte_count(static_cast<double>(row_start) +
                    static_cast<double>(dots) * static_cast<double>(dot_bytes_.value_or(0)));
  if (last_row && total_ && u.percent && *u.percent >= 100) u.downloaded = total_;
  if (!u.percent && total_ && *total_ > 0 && u.downloaded) {
    u.percent = 100.0 * static_cast<double>(*u.downloaded) / static_cast<double>(*total_);
  }
  tidy(u);
  out.push_back(std::move(u));
  return true;
}

bool WgetParser::bar_frame(std::string_view text, std::vector<ProgressUpdate>& out) {
  // "model.safetensors    77%[==============>     ]   4.46M  1.46MB/s    eta 1s"
  const std::size_t rb = text.rfind(']');
  if (rb == std::string_view::npos) return false;
  const std::size_t lb = text.rfind('[', rb);
  if (lb == std::string_view::npos || rb == lb + 1) return false;
  if (text.substr(lb + 1, rb - lb - 1).find_first_not_of(" =>+<-") != std::string_view::npos) {
    return false;
  }
  const std::vector<Token> tail = split_tokens(text.substr(rb + 1));
  if (tail.size() < 2) return false;
  ProgressUpdate u = update(Kind::kProgress);
  const auto size = parse_scaled(tail[0].text, 1024);
  if (!size) return false;
  u.downloaded = to_byte_count(*size);

  std::string_view head = trim(text.substr(0, lb));
  if (!head.empty() && head.back() == '%') {
    std::size_t b = head.size() - 1;
    while (b > 0 && is_digit(head[b - 1])) --b;
    u.percent = parse_unsigned_decimal(head.substr(b, head.size() - 1 - b));
    head = trim(head.substr(0, b));
  }
  if (u.name.empty()) u.name = std::string(head);

  std::size_t k = 1;
  std::string rate_text(tail[k].text);
  if (k + 1 < tail.size() && (tail[k + 1].text == "B/s" || tail[k + 1].text == "b/s")) {
    rate_text += tail[++k].text;  // " B/s": speed below 1K has a space before the unit
  }
  ++k;
  if (rate_text.substr(0, 2) == "--") {
    // "--.-KB/s": nothing measured yet (the first frame), or stalled: no bytes
    // are arriving, which is what a speed of 0 says.
    u.speed = 0.0;
  } else {
    u.speed = parse_rate(rate_text);
    if (!u.speed) return false;
  }
  if (k < tail.size() && (tail[k].text == "eta" || tail[k].text == "in")) {
    const bool done = tail[k].text == "in";
    const std::string_view rest = text.substr(rb + 1 + tail[k].end);
    const auto seconds = parse_unit_duration(rest);
    if (done) {
      u.elapsed_seconds = seconds;
    } else {
      u.remaining_seconds = seconds;
    }
  }
  tidy(u);
  out.push_back(std::move(u));
  return true;
}

bool WgetParser::saved_line(std::string_view text, std::vector<ProgressUpdate>& out) {
  // "2026-11-22 02:31:21 (2.01 MB/s) - 'dl/model.safetensors' saved [6000000/6000000]"
  const std::size_t saved = text.rfind(" saved [");
  const std::size_t dash = text.find(") - ");
  if (saved == std::string_view::npos || dash == std::string_view::npos || dash > saved) {
    return false;
  }
  const std::size_t open = text.rfind('(', dash);
  const std::string_view counts = text.substr(saved + 8, text.find(']', saved) - saved - 8);
  const std::size_t slash = counts.find('/');
  const auto done = parse_unsigned_decimal(counts.substr(0, slash));
  if (!done) return false;
  const std::string_view file = unquote_name(text.substr(dash + 4, saved - dash - 4));
  if (!file.empty()) name_ = std::string(base_name(file));
  ProgressUpdate u = update(Kind::kStageComplete);
  u.downloaded = to_byte_count(*done);
  u.total = slash == std::string_view::npos
                ? u.downloaded
                : to_byte_count(parse_unsigned_decimal(counts.substr(slash + 1)).value_or(*done));
  u.percent = 100.0;
  if (open != std::string_view::npos) {
    std::string rate;
    for (char c : text.substr(open + 1, dash - open - 1)) {
      if (c != ' ') rate.push_back(c);
    }
    u.speed = parse_rate(rate);
  }
  tidy(u);
  out.push_back(std::move(u));
  return true;
}

bool WgetParser::error_line(std::string_view text, std::vector<ProgressUpdate>& out) {
  std::string_view message;
  if (const std::size_t at = text.find("ERROR ");
      at != std::string_view::npos && at + 6 < text.size() && is_digit(text[at + 6])) {
    message = text.substr(at);  // "ERROR 404: File not found."
  } else if (text.starts_with("ERROR:") || text.starts_with("wget: ") ||
             text.find("failed: ") != std::string_view::npos ||
             text.find("Authentication Failed") != std::string_view::npos ||
             text.starts_with("Cannot write to") || text.starts_with("Unable to establish") ||
             text.starts_with("No such file") || text == "Giving up.") {
    message = text;
  } else {
    return false;
  }
  ProgressUpdate u = update(Kind::kError);
  u.total.reset();
  u.message = clean_message(message);
  out.push_back(std::move(u));
  return true;
}

}  // namespace haul::remote::progress
