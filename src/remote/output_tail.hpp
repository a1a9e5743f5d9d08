// The tail of what a command printed, as a person wants to read it: stdout
// and stderr interleaved as they arrived, ANSI escape sequences removed,
// progress-bar redraws (a line rewritten after '\r') folded to their last
// state, the last `max_lines` lines or `max_bytes` bytes kept, and the values
// of secrets (the command's environment) replaced by "***".
//
// Threading: a value owned by one thread (the SSH worker running the
// command); text() snapshots are handed on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace haul::remote {

class OutputTail {
 public:
  static constexpr std::size_t kMaxLines = 200;
  static constexpr std::size_t kMaxBytes = std::size_t{64} * 1024;
  static constexpr std::size_t kMaxLineBytes = 4096;  // longer lines are cut, marked "..."

  // Secrets shorter than 4 bytes are not masked (they would mask ordinary
  // text and reveal nothing).
  explicit OutputTail(std::vector<std::string> secrets = {}, std::size_t max_lines = kMaxLines,
                      std::size_t max_bytes = kMaxBytes);

  // Any bytes, split anywhere (an escape sequence or a "\r\n" may straddle
  // two chunks).
  void feed(std::string_view chunk);

  // The kept lines and the line being written (if any), '\n'-separated.
  std::string text() const;
  // Lines completed since the start (kept or dropped): a follower's cursor.
  std::uint64_t lines_total() const { return lines_total_; }

 private:
  enum class Escape { kNone, kEsc, kCsi, kOsc, kOscEsc };
  void end_line();
  void put(char c);
  std::string masked(std::string line) const;

  std::vector<std::string> secrets_;
  std::size_t max_lines_;
  std::size_t max_bytes_;
  std::deque<std::string> lines_;
  std::size_t bytes_ = 0;  // of lines_, newlines included
  std::string current_;
  bool pending_cr_ = false;  // a '\r' whose meaning the next byte decides
  Escape escape_ = Escape::kNone;
  std::uint64_t lines_total_ = 0;
};

}  // namespace haul::remote
