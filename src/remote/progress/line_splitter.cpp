#include "remote/progress/line_splitter.hpp"

#include <utility>

#include "base/text.hpp"

namespace haul::remote::progress {

namespace {

// Longest escape sequence we wait for; a longer one is broken output, and
// giving up keeps a stray ESC from swallowing the rest of the stream.
constexpr std::size_t kMaxEscapeBytes = 256;

bool in_range(char c, int low, int high) {
  const auto u = static_cast<unsigned char>(c);
  return u >= low && u <= high;
}

}  // namespace

void LineSplitter::feed(std::string_view chunk, std::vector<Line>& out) {
  for (char c : chunk) put(c, out);
}

void LineSplitter::finish(std::vector<Line>& out) {
  escape_ = Escape::kNone;
  if (after_cr_) {
    after_cr_ = false;
    end_line(LineEnd::kCarriageReturn, out);
  } else if (!current_.empty()) {
    end_line(LineEnd::kEndOfOutput, out);
  }
}

void LineSplitter::put(char c, std::vector<Line>& out) {
  // Escape sequences are removed before line ends are looked at, so a colour
  // code between '\r' and '\n' does not turn a newline into a redraw.
  if (escape_ != Escape::kNone && ++escape_length_ > kMaxEscapeBytes) escape_ = Escape::kNone;
  if (c == '\x1b' && escape_ != Escape::kOsc) {  // ESC always starts a new sequence
    escape_ = Escape::kEsc;
    escape_length_ = 0;
    return;
  }
  switch (escape_) {
    case Escape::kNone:
      break;
    case Escape::kEsc:
      if (c == '[') {
        escape_ = Escape::kCsi;
        return;
      }
      if (c == ']') {
        escape_ = Escape::kOsc;
        return;
      }
      if (in_range(c, 0x20, 0x2F)) {
        escape_ = Escape::kEscIntermediate;
        return;
      }
      escape_ = Escape::kNone;
      if (in_range(c, 0x30, 0x7E)) return;  // a two-byte sequence such as ESC 7
      break;                                // ESC then a control byte: keep the byte
    case Escape::kEscIntermediate:
      if (in_range(c, 0x20, 0x2F)) return;
      escape_ = Escape::kNone;
      if (in_range(c, 0x30, 0x7E)) return;
      break;
    case Escape::kCsi:  // ESC [ parameters intermediates final
      if (in_range(c, 0x20, 0x3F)) return;
      escape_ = Escape::kNone;
      if (in_range(c, 0x40, 0x7E)) return;
      break;
    case Escape::kOsc:  // ESC ] text, ended by BEL or ESC '\'
      if (c == '\x07') {
        escape_ = Escape::kNone;
        return;
      }
      if (c == '\x1b') {
        escape_ = Escape::kOscEsc;
        return;
      }
      if (c != '\n' && c != '\r') return;
      escape_ = Escape::kNone;
      break;
    case Escape::kOscEsc:
      escape_ = Escape::kNone;
      return;
  }

  if (after_cr_) {
    after_cr_ = false;
    if (c == '\n') {
      end_line(LineEnd::kNewline, out);
      return;
    }
    end_line(LineEnd::kCarriageReturn, out);
  }
  if (c == '\r') {
    after_cr_ = true;
    return;
  }
  if (c == '\n') {
    end_line(LineEnd::kNewline, out);
    return;
  }
  // Other control bytes (backspace, bell, NUL) carry nothing a parser reads.
  if (c != '\t' && (in_range(c, 0x00, 0x1F) || c == '\x7f')) return;
  if (current_.size() < kMaxLineBytes) current_.push_back(c);
}

void LineSplitter::end_line(LineEnd end, std::vector<Line>& out) {
  // "\r" before the first frame of a redraw ends an empty line: nothing to report.
  if (end == LineEnd::kCarriageReturn && current_.empty()) return;
  out.push_back(Line{std::move(current_), end});
  current_.clear();
}

std::vector<ProgressUpdate> LineParser::feed(std::string_view chunk) {
  std::vector<ProgressUpdate> out;
  if (finished_) return out;
  std::vector<Line> lines;
  splitter_.feed(chunk, lines);
  for (const Line& line : lines) handle(line, out);
  // Compared without surrounding blanks: tqdm pads a frame with spaces after
  // its ']', and those must not make the same frame count twice.
  const std::string_view pending = trim(splitter_.pending());
  if (!pending.empty() && pending != peeked_ && frame_complete(pending)) {
    peeked_.assign(pending);
    on_line(Line{peeked_, LineEnd::kCarriageReturn}, out);
  }
  return out;
}

std::vector<ProgressUpdate> LineParser::finish() {
  std::vector<ProgressUpdate> out;
  if (finished_) return out;
  finished_ = true;
  std::vector<Line> lines;
  splitter_.finish(lines);
  for (const Line& line : lines) handle(line, out);
  on_finish(out);
  return out;
}

void LineParser::handle(const Line& line, std::vector<ProgressUpdate>& out) {
  if (!peeked_.empty() && trim(line.text) == peeked_) {
    peeked_.clear();
    if (line.end == LineEnd::kCarriageReturn) return;  // reported when it arrived
    Line seen = line;
    seen.already_seen = true;
    on_line(seen, out);
    return;
  }
  peeked_.clear();
  on_line(line, out);
}

}  // namespace haul::remote::progress
