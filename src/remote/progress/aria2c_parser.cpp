#include "remote/progress/aria2c_parser.hpp"

#include <cmath>

#include "base/text.hpp"
#include "remote/progress/text_fields.hpp"

namespace haul::remote::progress {

namespace {

using Kind = ProgressUpdate::Kind;

constexpr std::string_view kStage = "download";
// Bounds what a hostile or broken stream can make the parser remember.
constexpr std::size_t kMaxRemembered = 256;

std::string_view after(std::string_view text, std::string_view marker) {
  const std::size_t at = text.find(marker);
  return at == std::string_view::npos ? std::string_view() : text.substr(at + marker.size());
}

// "1.4MiB/5.7MiB(24%)" or "1.4MiB/0B".
bool parse_progress(std::string_view text, Aria2Item& item) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view total = text.substr(slash + 1);
  if (const std::size_t paren = total.find('('); paren != std::string_view::npos) {
    std::string_view pct = total.substr(paren + 1);
    total = total.substr(0, paren);
    if (pct.size() < 3 || pct.substr(pct.size() - 2) != "%)") return false;
    item.percent = parse_unsigned_decimal(pct.substr(0, pct.size() - 2));
    if (!item.percent) return false;
  }
  const auto done = parse_aria2_size(text.substr(0, slash));
  const auto size = parse_aria2_size(total);
  if (!done || !size) return false;
  item.done = *done;
  if (*size > 0) item.total = size;
  return true;
}

}  // namespace

std::optional<double> parse_aria2_size(std::string_view text) {
  if (text.size() < 2 || text.back() != 'B') return std::nullopt;
  text.remove_suffix(1);
  int power = 0;
  if (text.size() >= 2 && text.back() == 'i') {
    const char unit = text[text.size() - 2];
    power = unit == 'K' ? 1 : unit == 'M' ? 2 : unit == 'G' ? 3 : unit == 'T' ? 4 : 0;
    if (power == 0) return std::nullopt;
    text.remove_suffix(2);
  }
  std::string digits;
  for (char c : text) {
    if (c != ',') digits.push_back(c);  // thousands separators in large values
  }
  const auto value = parse_unsigned_decimal(digits);
  if (!value) return std::nullopt;
  return *value * std::pow(1024.0, power);
}

std::optional<Aria2Readout> parse_aria2_readout(std::string_view line) {
  line = trim(line);
  if (line.size() < 3 || line.front() != '[') return std::nullopt;
  Aria2Readout readout;
  std::size_t i = 0;
  while (i < line.size() && line[i] == '[') {
    const std::size_t close = line.find(']', i);
    if (close == std::string_view::npos) return std::nullopt;
    const std::vector<Token> tokens = split_tokens(line.substr(i + 1, close - i - 1));
    i = close + 1;
    if (tokens.empty()) return std::nullopt;
    if (tokens[0].text.starts_with("DL:") && tokens.size() == 1) {
      readout.speed = parse_aria2_size(tokens[0].text.substr(3));
      continue;
    }
    if (tokens[0].text.size() < 2 || tokens[0].text[0] != '#' || tokens.size() < 2) {
      return std::nullopt;
    }
    Aria2Item item;
    item.gid = std::string(tokens[0].text.substr(1));
    if (!parse_progress(tokens[1].text, item)) return std::nullopt;
    for (std::size_t k = 2; k < tokens.size(); ++k) {
      const std::string_view t = tokens[k].text;
      if (t.starts_with("DL:")) item.speed = parse_aria2_size(t.substr(3));
      if (t.starts_with("ETA:")) item.eta_seconds = parse_unit_duration(t.substr(4));
    }
    readout.items.push_back(std::move(item));
  }
  // Only "(+N)", the count of items not shown, may follow the groups.
  const std::string_view rest = trim(line.substr(i));
  if (!rest.empty() && !(rest.front() == '(' && rest.back() == ')')) return std::nullopt;
  if (readout.items.empty()) return std::nullopt;
  return readout;
}

Aria2cParser::Aria2cParser(std::string name_hint) : name_hint_(std::move(name_hint)) {}

std::string Aria2cParser::name_of(const std::string& gid) const {
  for (const auto& [known, name] : gid_names_) {
    if (known == gid) return name;
  }
  return name_hint_;
}

bool Aria2cParser::frame_complete(std::string_view pending) const {
  const std::string_view text = trim(pending);
  return !text.empty() && text.back() == ']' && parse_aria2_readout(text).has_value();
}

void Aria2cParser::complete(const std::string& name, std::vector<ProgressUpdate>& out) {
  if (completed_.count(name) != 0) return;
  if (completed_.size() < kMaxRemembered) completed_.insert(name);
  ProgressUpdate u = make_update(Kind::kStageComplete, kStage, name);
  u.percent = 100.0;
  out.push_back(std::move(u));
}

void Aria2cParser::flush_exception(std::vector<ProgressUpdate>& out) {
  if (exception_.empty()) return;
  ProgressUpdate u = make_update(Kind::kError, kStage, name_hint_);
  u.message = clean_message(exception_);
  out.push_back(std::move(u));
  exception_.clear();
  error_reported_ = true;
}

void Aria2cParser::on_line(const Line& line, std::vector<ProgressUpdate>& out) {
  if (line.already_seen) return;  // a readout reported when its ']' arrived
  const std::string_view text = trim(line.text);
  // "Exception: [...] errorCode=3 URI=..." then "  -> [...] errorCode=3 Resource
  // not found": the deepest cause is the reason a user can act on.
  if (text.starts_with("Exception: ") || text.starts_with("-> ")) {
    const std::string_view code = after(text, "errorCode=");
    if (!code.empty()) exception_ = "errorCode=" + std::string(code);
    return;
  }
  flush_exception(out);
  if (text.empty()) {
    in_box_ = false;
    in_results_ = false;
    return;
  }
  if (text.starts_with("*** Download Progress Summary")) {
    in_box_ = true;
    return;
  }
  if (is_rule(text) || text.starts_with("Status Legend") || text.starts_with("(OK)") ||
      text.starts_with("(ERR)") || text.starts_with("(INPR)") || text.starts_with("(RM)")) {
    return;
  }
  if (const auto parsed = parse_aria2_readout(text)) {
    if (in_box_) {
      box_gid_ = parsed->items.front().gid;  // the FILE: line that follows names it
    } else {
      readout(*parsed, out);
    }
    return;
  }
  if (text.starts_with("FILE: ")) {
    if (!box_gid_.empty() && gid_names_.size() < kMaxRemembered) {
      gid_names_.emplace_back(box_gid_, std::string(base_name(trim(text.substr(6)))));
    }
    return;
  }
  if (text.starts_with("gid ") && text.find("|stat|") != std::string_view::npos) {
    in_results_ = true;
    return;
  }
  if (in_results_ && result_row(text, out)) return;
  if (const std::string_view path = after(text, "] Download complete: "); !path.empty()) {
    complete(std::string(base_name(trim(path))), out);
    return;
  }
  ProgressUpdate u = make_update(Kind::kMessage, kStage, name_hint_);
  u.message = clean_message(text);
  out.push_back(std::move(u));
}

void Aria2cParser::readout(const Aria2Readout& readout, std::vector<ProgressUpdate>& out) {
  for (const Aria2Item& item : readout.items) {
    if (started_.count(item.gid) != 0 || started_.size() >= kMaxRemembered) continue;
    started_.insert(item.gid);
    ProgressUpdate start = make_update(Kind::kStageStart, kStage, name_of(item.gid));
    if (item.total) start.total = to_byte_count(*item.total);
    out.push_back(std::move(start));
  }
  const bool single = readout.items.size() == 1;
  ProgressUpdate u =
      make_update(Kind::kProgress, kStage, single ? name_of(readout.items[0].gid) : "");
  double done = 0;
  double total = 0;
  bool sized = true;
  for (const Aria2Item& item : readout.items) {
    done += item.done;
    sized = sized && item.total.has_value();
    if (item.total) total += *item.total;
  }
  u.downloaded = to_byte_count(done);
  if (sized) u.total = to_byte_count(total);
  if (single) {
    u.percent = readout.items[0].percent;
    u.speed = readout.items[0].speed;
    u.remaining_seconds = readout.items[0].eta_seconds;
  } else {
    if (sized && total > 0) u.percent = std::floor(100.0 * done / total);
    u.speed = readout.speed;
    u.message = std::to_string(readout.items.size()) + " items";
  }
  tidy(u);
  out.push_back(std::move(u));
}

bool Aria2cParser::result_row(std::string_view text, std::vector<ProgressUpdate>& out) {
  // "879976|OK  |   1.4MiB/s|out/model.safetensors"
  std::vector<std::string_view> cells;
  std::size_t begin = 0;
  for (std::size_t bar = text.find('|'); cells.size() < 3 && bar != std::string_view::npos;
       bar = text.find('|', begin)) {
    cells.push_back(trim(text.substr(begin, bar - begin)));
    begin = bar + 1;
  }
  if (cells.size() != 3) return false;
  const std::string_view where = trim(text.substr(begin));
  const std::string_view status = cells[1];
  if (status == "OK") {
    complete(std::string(base_name(where)), out);
  } else if (status == "ERR") {
    if (!error_reported_) {
      ProgressUpdate u = make_update(Kind::kError, kStage, name_hint_);
      u.message = clean_message("download failed: " + std::string(where));
      out.push_back(std::move(u));
      error_reported_ = true;
    }
  } else {
    ProgressUpdate u = make_update(Kind::kMessage, kStage, std::string(base_name(where)));
    u.message = clean_message(std::string(status == "INPR" ? "incomplete: " : "removed: ") +
                              std::string(where));
    out.push_back(std::move(u));
  }
  return true;
}

void Aria2cParser::on_finish(std::vector<ProgressUpdate>& out) { flush_exception(out); }

}  // namespace haul::remote::progress
