#include "remote/progress/civitdl_parser.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "base/text.hpp"
#include "remote/progress/text_fields.hpp"
#include "remote/progress/tqdm_parser.hpp"

namespace haul::remote::progress {

namespace {

using Kind = ProgressUpdate::Kind;

// civitdl indents the lines of an exception message by 9 spaces.
constexpr std::size_t kMessageIndent = 4;
constexpr std::size_t kMaxBlockText = 1024;

// `Now downloading "Some LoRA"...` -> Some LoRA (names may hold quotes).
std::string quoted(std::string_view text) {
  const std::size_t open = text.find('"');
  const std::size_t close = text.rfind('"');
  if (open == std::string_view::npos || close <= open) return std::string(trim(text));
  return std::string(text.substr(open + 1, close - open - 1));
}

// "APIException (API Status Code 403):", "InputException (Bad Inputs):".
bool is_exception_header(std::string_view text) {
  const std::size_t space = text.find(" (");
  if (space == std::string_view::npos || text.size() < 3 || text.substr(text.size() - 2) != "):") {
    return false;
  }
  const std::string_view name = text.substr(0, space);
  if (name.size() < 9 || name.substr(name.size() - 9) != "Exception") return false;
  for (char c : name) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

std::string count_text(double value) {
  return std::to_string(static_cast<long long>(std::llround(std::min(value, 1e15))));
}

}  // namespace

void CivitdlParser::emit(Kind kind, std::string_view stage, std::string_view message,
                         std::vector<ProgressUpdate>& out) const {
  ProgressUpdate u = make_update(kind, stage, model_);
  u.message = clean_message(message);
  if (!u.message.empty() || kind == Kind::kStageStart || kind == Kind::kStageComplete) {
    out.push_back(std::move(u));
  }
}

bool CivitdlParser::frame_complete(std::string_view pending) const {
  const auto frame = parse_tqdm_frame(pending);
  return frame && frame->bracketed;
}

void CivitdlParser::flush_exception(std::vector<ProgressUpdate>& out) {
  if (exception_.empty()) return;
  emit(Kind::kError, "", exception_, out);
  exception_.clear();
}

void CivitdlParser::flush_block(std::vector<ProgressUpdate>& out) {
  if (!block_had_exception_ && !block_text_.empty()) emit(Kind::kError, "", block_text_, out);
  block_text_.clear();
  block_had_exception_ = false;
}

bool CivitdlParser::exception_line(const Line& line, std::vector<ProgressUpdate>& out) {
  const std::string_view text = trim(line.text);
  if (is_exception_header(text)) {
    flush_exception(out);
    exception_ = std::string(text);
    if (in_block_) block_had_exception_ = true;
    return true;
  }
  if (exception_.empty()) return false;
  const std::size_t indent = line.text.find_first_not_of(' ');
  if (!text.empty() && indent != std::string::npos && indent >= kMessageIndent) {
    if (exception_.size() < ProgressUpdate::kMaxMessageBytes) {
      exception_ += ' ';
      exception_ += text;
    }
    return true;
  }
  flush_exception(out);
  return false;
}

bool CivitdlParser::bar(const Line& line, std::vector<ProgressUpdate>& out) {
  const auto frame = parse_tqdm_frame(line.text);
  if (!frame) return false;
  if (line.already_seen) return true;
  if (frame->description == "Images") {
    // The Images bar counts files even though its unit says "iB".
    ProgressUpdate u = tqdm_update(*frame, "images", model_);
    u.downloaded.reset();
    u.total.reset();
    u.speed.reset();
    if (frame->count && frame->total) {
      u.message = count_text(*frame->count) + "/" + count_text(*frame->total) + " images";
    }
    out.push_back(std::move(u));
  } else {
    out.push_back(
        tqdm_update(*frame, frame->description == "Model" ? "model" : "download", model_));
  }
  return true;
}

void CivitdlParser::on_line(const Line& line, std::vector<ProgressUpdate>& out) {
  if (exception_line(line, out)) return;
  const std::string_view text = trim(line.text);
  if (text.empty()) return;
  if (text == "---------") {  // a failure is printed between two of these
    if (in_block_) flush_block(out);
    in_block_ = !in_block_;
    return;
  }
  if (is_rule(text)) return;
  if (text.starts_with("Now downloading \"")) {
    model_ = quoted(text);
    emit(Kind::kStageStart, "", "", out);
    return;
  }
  if (text.starts_with("Download completed for \"")) {
    model_ = quoted(text);
    emit(Kind::kStageComplete, "", "", out);
    return;
  }
  if (bar(line, out)) return;
  if (text.starts_with("Max retry of ")) {
    emit(Kind::kError, "", text, out);
    return;
  }
  if (in_block_ && !text.starts_with("Retrying to download")) {
    if (block_text_.size() < kMaxBlockText)
      block_text_ += (block_text_.empty() ? "" : " ") + std::string(text);
    return;
  }
  if (text.starts_with("- ")) {
    if (text.starts_with("- Model Directory Path:")) emit(Kind::kMessage, "", text.substr(2), out);
    if (text.starts_with("- Path:")) emit(Kind::kMessage, "cache", text.substr(2), out);
    return;  // model id, version id and the other paths of the blocks
  }
  if (text.starts_with("Cache of model") || text.starts_with("Model already existed") ||
      text.starts_with("Model file already existed") || text.starts_with("Copying to new path")) {
    emit(Kind::kMessage, "cache", text, out);
    return;
  }
  emit(Kind::kMessage, text.starts_with("No images to download") ? "images" : "", text, out);
}

void CivitdlParser::on_finish(std::vector<ProgressUpdate>& out) {
  flush_exception(out);
  if (in_block_) flush_block(out);
}

}  // namespace haul::remote::progress
