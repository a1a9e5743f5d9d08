// Turns a command's output, arriving in chunks split anywhere, into lines:
// '\n', '\r\n' and a lone '\r' (a progress redraw) each end a line, and ANSI
// escape sequences (colours, cursor moves) are dropped. LineParser is the base
// the tool parsers share: it feeds the splitter and hands them whole lines.
// Pure: no I/O, no clocks.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "remote/progress/progress_parser.hpp"

namespace haul::remote::progress {

enum class LineEnd {
  kNewline,         // '\n' or "\r\n": the line is final
  kCarriageReturn,  // a lone '\r': the line will be redrawn
  kEndOfOutput,     // the output ended without a line end
};

struct Line {
  std::string text;  // without the line end and without escape sequences
  LineEnd end = LineEnd::kNewline;
  // LineParser only: this text was already handed over as a complete frame
  // (see frame_complete); only its end is news.
  bool already_seen = false;
};

class LineSplitter {
 public:
  // Longer lines keep their first kMaxLineBytes bytes; the rest is dropped.
  static constexpr std::size_t kMaxLineBytes = std::size_t{16} * 1024;

  // Appends the lines that `chunk` completes to `out`.
  void feed(std::string_view chunk, std::vector<Line>& out);
  // End of output: appends the unterminated last line, if any.
  void finish(std::vector<Line>& out);
  // The line received so far and not yet ended (escape codes removed).
  std::string_view pending() const { return current_; }

 private:
  enum class Escape { kNone, kEsc, kEscIntermediate, kCsi, kOsc, kOscEsc };

  void put(char c, std::vector<Line>& out);
  void end_line(LineEnd end, std::vector<Line>& out);

  std::string current_;
  Escape escape_ = Escape::kNone;
  std::size_t escape_length_ = 0;
  bool after_cr_ = false;  // a '\r' was seen; "\r\n" is one newline
};

// Base for parsers that work line by line. Subclasses implement on_line() and
// may implement frame_complete() so that a redrawn frame is reported as soon
// as it has fully arrived instead of when the next redraw ends it.
class LineParser : public ProgressParser {
 public:
  std::vector<ProgressUpdate> feed(std::string_view chunk) final;
  std::vector<ProgressUpdate> finish() final;

 protected:
  // One line of output. `line.text` may be empty.
  virtual void on_line(const Line& line, std::vector<ProgressUpdate>& out) = 0;
  // Called once after the last line.
  virtual void on_finish(std::vector<ProgressUpdate>& /*out*/) {}
  // True when `pending` is a whole progress frame already (a tqdm frame ends
  // with ']'): it is parsed now and not again when its line end arrives.
  virtual bool frame_complete(std::string_view /*pending*/) const { return false; }

 private:
  void handle(const Line& line, std::vector<ProgressUpdate>& out);

  LineSplitter splitter_;
  std::string peeked_;  // the pending frame already parsed, if any
  bool finished_ = false;
};

}  // namespace haul::remote::progress
