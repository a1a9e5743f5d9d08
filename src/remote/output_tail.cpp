#include "remote/output_tail.hpp"

#include <algorithm>
#include <utility>

namespace haul::remote {

OutputTail::OutputTail(std::vector<std::string> secrets, std::size_t max_lines,
                       std::size_t max_bytes)
    : max_lines_(std::max<std::size_t>(max_lines, 1)), max_bytes_(max_bytes) {
  for (std::string& secret : secrets) {
    if (secret.size() >= 4) secrets_.push_back(std::move(secret));
  }
  // Longest first: a secret containing another is masked whole.
  std::sort(secrets_.begin(), secrets_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

void OutputTail::feed(std::string_view chunk) {
  for (char c : chunk) {
    const auto byte = static_cast<unsigned char>(c);
    switch (escape_) {
      case Escape::kEsc:
        escape_ = c == '[' ? Escape::kCsi : c == ']' ? Escape::kOsc : Escape::kNone;
        continue;
      case Escape::kCsi:
        if (byte >= 0x40 && byte <= 0x7e) escape_ = Escape::kNone;  // the final byte
        continue;
      case Escape::kOsc:
        if (c == '\a') escape_ = Escape::kNone;
        if (c == '\x1b') escape_ = Escape::kOscEsc;
        continue;
      case Escape::kOscEsc:  // ESC \ ends an OSC
        escape_ = Escape::kNone;
        continue;
      case Escape::kNone:
        break;
    }
    if (pending_cr_) {
      pending_cr_ = false;
      if (c != '\n') current_.clear();  // a redraw: the line starts over
    }
    if (c == '\x1b') {
      escape_ = Escape::kEsc;
    } else if (c == '\r') {
      pending_cr_ = true;
    } else if (c == '\n') {
      end_line();
    } else {
      put(c);
    }
  }
}

void OutputTail::put(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte < 0x20 && c != '\t') return;  // bells, backspaces: nothing to read
  if (byte == 0x7f) return;
  if (current_.size() < kMaxLineBytes) {
    current_ += c;
  } else if (current_.size() == kMaxLineBytes) {
    current_ += "...";
  }
}

std::string OutputTail::masked(std::string line) const {
  for (const std::string& secret : secrets_) {
    for (std::size_t at = line.find(secret); at != std::string::npos;
         at = line.find(secret, at + 3))
      line.replace(at, secret.size(), "***");
  }
  return line;
}

void OutputTail::end_line() {
  std::string line = masked(std::move(current_));
  current_.clear();
  ++lines_total_;
  bytes_ += line.size() + 1;
  lines_.push_back(std::move(line));
  while (!lines_.empty() && (lines_.size() > max_lines_ || bytes_ > max_bytes_)) {
    bytes_ -= lines_.front().size() + 1;
    lines_.pop_front();
  }
}

std::string OutputTail::text() const {
  std::string out;
  for (const std::string& line : lines_) {
    out += line;
    out += '\n';
  }
  if (!current_.empty()) out += masked(current_);
  return out;
}

}  // namespace haul::remote
