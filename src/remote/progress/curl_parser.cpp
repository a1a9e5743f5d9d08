#include "remote/progress/curl_parser.hpp"

#include <cmath>
#include <utility>
#include <vector>

#include "base/text.hpp"
#include "remote/progress/text_fields.hpp"

namespace haul::remote::progress {

namespace {

using Kind = ProgressUpdate::Kind;

constexpr std::string_view kStage = "download";

// From the end of the upload-speed column to the end of the line: three time
// columns and the current speed, each after one space. Up to 8.17: times 8
// wide, speed 5 ("%s %s %s %5s"); from 8.18: times 7, speed 6.
constexpr std::size_t kOldTail = 3 * (1 + 8) + 1 + 5;
constexpr std::size_t kNewTail = 3 * (1 + 7) + 1 + 6;

std::optional<double> whole_percent(std::string_view text) {
  const auto value = parse_unsigned_decimal(text);
  if (!value || *value > 100 || text.find('.') != std::string_view::npos) return std::nullopt;
  return value;
}

}  // namespace

std::optional<std::int64_t> parse_curl_time(std::string_view field) {
  field = trim(field);
  if (field.empty() || field.front() == '-' || field.front() == '>') return std::nullopt;
  if (field.find(':') != std::string_view::npos) return parse_clock(field);
  // A single part is days, months or years; two parts ("10h 02m", "4d 04h")
  // are read as units.
  if (field.find(' ') == std::string_view::npos) {
    const char unit = field.back();
    const auto count = parse_unsigned_decimal(field.substr(0, field.size() - 1));
    if (!count) return std::nullopt;
    const double days = unit == 'd' ? 1 : unit == 'm' ? 30 : unit == 'y' ? 365 : 0;
    if (days == 0) return parse_unit_duration(field);
    if (*count > 1e9) return std::nullopt;
    return static_cast<std::int64_t>(*count * days * 86400);
  }
  return parse_unit_duration(field);
}

std::optional<CurlMeterFrame> parse_curl_meter(std::string_view line) {
  const std::vector<Token> tokens = split_tokens(line);
  if (tokens.size() < 9) return std::nullopt;
  CurlMeterFrame frame;
  const auto pct_total = whole_percent(tokens[0].text);
  const auto total = parse_scaled(tokens[1].text, 1024);
  const auto pct_received = whole_percent(tokens[2].text);
  const auto received = parse_scaled(tokens[3].text, 1024);
  const auto pct_sent = whole_percent(tokens[4].text);
  const auto sent = parse_scaled(tokens[5].text, 1024);
  const auto average_down = parse_scaled(tokens[6].text, 1024);
  const auto average_up = parse_scaled(tokens[7].text, 1024);
  const auto current = parse_scaled(tokens.back().text, 1024);
  if (!pct_total || !total || !pct_received || !received || !pct_sent || !sent || !average_down ||
      !average_up || !current) {
    return std::nullopt;
  }
  frame.percent_total = *pct_total;
  frame.total = *total;
  frame.percent_received = *pct_received;
  frame.received = *received;
  frame.average_download = *average_down;
  frame.current_speed = *current;

  // Times can be blank (8.18+), so they are read by column, not by token.
  const std::size_t upload_end = tokens[7].end;
  const std::size_t tail = tokens.back().end - upload_end;
  std::size_t width = 0;
  if (tail == kOldTail) width = 8;
  if (tail == kNewTail) width = 7;
  if (width > 0) {
    std::optional<std::int64_t>* times[3] = {&frame.time_total, &frame.time_spent,
                                             &frame.time_left};
    for (std::size_t k = 0; k < 3; ++k) {
      *times[k] = parse_curl_time(line.substr(upload_end + 1 + k * (width + 1), width));
    }
  } else if (tokens.size() == 12) {
    // Another spacing but one token per time: read them in order.
    frame.time_total = parse_curl_time(tokens[8].text);
    frame.time_spent = parse_curl_time(tokens[9].text);
    frame.time_left = parse_curl_time(tokens[10].text);
  } else if (tokens.size() != 9) {
    return std::nullopt;
  }
  return frame;
}

CurlParser::CurlParser(std::string name_hint) : name_(std::move(name_hint)) {}

void CurlParser::start(std::vector<ProgressUpdate>& out) {
  started_ = true;
  completed_ = false;
  ended_unsized_ = false;
  out.push_back(make_update(Kind::kStageStart, kStage, name_));
}

void CurlParser::complete(std::optional<std::uint64_t> downloaded,
                          std::optional<std::uint64_t> total, std::vector<ProgressUpdate>& out) {
  completed_ = true;
  ended_unsized_ = false;
  resume_offset_ = 0;
  ProgressUpdate u = make_update(Kind::kStageComplete, kStage, name_);
  u.percent = 100.0;
  u.downloaded = downloaded;
  u.total = total;
  tidy(u);
  out.push_back(std::move(u));
}

void CurlParser::on_line(const Line& line, std::vector<ProgressUpdate>& out) {
  const std::string_view text = trim(line.text);
  if (text.empty()) return;
  if (text.starts_with("% Total")) {  // the meter header: a transfer starts
    start(out);
    return;
  }
  if (text.starts_with("Dload")) return;
  if (text.starts_with("** Resuming transfer from byte position ")) {
    // The meter then counts only this transfer; the file also holds the offset.
    resume_offset_ = to_byte_count(parse_unsigned_decimal(text.substr(40)).value_or(0)).value_or(0);
  }
  if (text.starts_with("curl: (")) {
    error_ = true;
    ended_unsized_ = false;
    resume_offset_ = 0;
    ProgressUpdate u = make_update(Kind::kError, kStage, name_);
    u.message = clean_message(text);
    out.push_back(std::move(u));
    return;
  }
  if (meter_frame(line, out) || bar_frame(line, out)) return;
  ProgressUpdate u = make_update(Kind::kMessage, kStage, name_);
  u.message = clean_message(text);
  out.push_back(std::move(u));
}

bool CurlParser::meter_frame(const Line& line, std::vector<ProgressUpdate>& out) {
  const auto frame = parse_curl_meter(line.text);
  if (!frame) return false;
  if (!started_) start(out);
  ProgressUpdate u = make_update(Kind::kProgress, kStage, name_);
  const double offset = static_cast<double>(resume_offset_);
  u.downloaded = to_byte_count(frame->received + offset);
  // Without a Content-Length, curl shows Total = Received with Received% 0.
  const bool sized =
      frame->total > 0 && !(frame->percent_received == 0 && frame->received >= frame->total);
  if (sized) {
    u.total = to_byte_count(frame->total + offset);
    u.percent = resume_offset_ == 0
                    ? frame->percent_received
                    : std::floor(100.0 * (frame->received + offset) / (frame->total + offset));
  }
  u.speed = frame->current_speed;
  u.elapsed_seconds = frame->time_spent;
  u.remaining_seconds = frame->time_left;
  tidy(u);
  last_downloaded_ = u.downloaded;
  const auto downloaded = u.downloaded;
  const auto total = u.total;
  out.push_back(std::move(u));
  if (line.end == LineEnd::kNewline && !completed_) {  // curl ends its last frame with '\n'
    if (sized && frame->percent_received >= 100) {
      complete(downloaded, total, out);
    } else if (!sized && frame->received > 0) {
      ended_unsized_ = true;
    }
  }
  return true;
}

bool CurlParser::bar_frame(const Line& line, std::vector<ProgressUpdate>& out) {
  // "\r#####                          27.3%"; without a size a "-=O=-" ship flies.
  const std::string_view text = trim(line.text);
  if (text.find_first_not_of("#=-Oo .%0123456789") != std::string_view::npos) return false;
  if (text.find('#') == std::string_view::npos && text.find("=O=") == std::string_view::npos &&
      text.find("-=") == std::string_view::npos) {
    return false;
  }
  if (!started_) start(out);
  std::optional<double> percent;
  if (text.back() == '%') {
    const std::size_t begin = text.find_last_of(" #=-O") + 1;  // npos + 1 == 0
    percent = parse_unsigned_decimal(text.substr(begin, text.size() - 1 - begin));
  }
  if (percent) {
    ProgressUpdate u = make_update(Kind::kProgress, kStage, name_);
    u.percent = percent;
    tidy(u);
    out.push_back(std::move(u));
  }
  if (line.end == LineEnd::kNewline && !completed_) {
    if (percent && *percent >= 100) {
      complete(std::nullopt, std::nullopt, out);
    } else if (!percent) {
      ended_unsized_ = true;
    }
  }
  return true;
}

void CurlParser::on_finish(std::vector<ProgressUpdate>& out) {
  if (ended_unsized_ && !error_ && !completed_) complete(last_downloaded_, last_downloaded_, out);
}

}  // namespace haul::remote::progress
