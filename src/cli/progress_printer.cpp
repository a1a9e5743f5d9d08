#include "cli/progress_printer.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

namespace haul::cli {

ProgressPrinter::Mode choose_mode(bool json, bool quiet) {
  if (json) return ProgressPrinter::Mode::kJson;
  if (quiet) return ProgressPrinter::Mode::kQuiet;
  return ::isatty(STDERR_FILENO) ? ProgressPrinter::Mode::kBars : ProgressPrinter::Mode::kLines;
}

ProgressPrinter::ProgressPrinter(Mode mode) : mode_(mode) {}

std::chrono::milliseconds ProgressPrinter::interval() const {
  return mode_ == Mode::kBars ? std::chrono::milliseconds(250) : std::chrono::milliseconds(1000);
}

int ProgressPrinter::terminal_width() {
  winsize size{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col - 1;
  return 79;
}

void ProgressPrinter::erase_bars() {
  // Up one line and clear it, once per bar drawn last time.
  for (int i = 0; i < bars_drawn_; ++i) std::fputs("\x1b[1A\x1b[2K", stderr);
  bars_drawn_ = 0;
}

void ProgressPrinter::render(const std::vector<FileStatus>& active) {
  switch (mode_) {
    case Mode::kBars: {
      erase_bars();
      const int width = terminal_width();
      for (const FileStatus& status : active) {
        std::fprintf(stderr, "%s\n", format_bar_line(status, width).c_str());
        ++bars_drawn_;
      }
      last_active_ = active;
      std::fflush(stderr);
      return;
    }
    case Mode::kLines:
      for (const FileStatus& status : active)
        std::fprintf(stderr, "%s\n", format_plain_line(status).c_str());
      std::fflush(stderr);
      return;
    case Mode::kJson:
      for (const FileStatus& status : active)
        std::fprintf(stdout, "%s\n", format_json_event(status).c_str());
      std::fflush(stdout);
      return;
    case Mode::kQuiet:
      return;
  }
}

void ProgressPrinter::outcome(const FileStatus& status) {
  const bool failed = status.state != FileStatus::State::kDone;
  switch (mode_) {
    case Mode::kBars: {
      erase_bars();
      std::fprintf(stderr, "%s\n", format_outcome_line(status).c_str());
      std::vector<FileStatus> still_active;
      for (const FileStatus& other : last_active_) {
        if (other.id != status.id) still_active.push_back(other);
      }
      render(still_active);
      return;
    }
    case Mode::kLines:
      std::fprintf(stderr, "%s\n", format_outcome_line(status).c_str());
      std::fflush(stderr);
      return;
    case Mode::kJson:
      std::fprintf(stdout, "%s\n", format_json_event(status).c_str());
      std::fflush(stdout);
      return;
    case Mode::kQuiet:
      if (failed) std::fprintf(stderr, "%s\n", format_outcome_line(status).c_str());
      return;
  }
}

void ProgressPrinter::notice(const std::string& text) {
  if (mode_ == Mode::kJson) return;
  if (mode_ == Mode::kBars) erase_bars();
  std::fprintf(stderr, "%s\n", text.c_str());
  if (mode_ == Mode::kBars) render(last_active_);
}

}  // namespace haul::cli
