// Draws `haul get` progress on the terminal or a pipe, or as JSON lines.
// Main thread only.
#pragma once

#include <cstdio>
#include <vector>

#include "cli/progress_format.hpp"

namespace haul::cli {

class ProgressPrinter {
 public:
  enum class Mode {
    kBars,   // a terminal: one redrawn bar per active file, on stderr
    kLines,  // a pipe or file: one line per active file per second, on stderr
    kJson,   // one JSON object per line on stdout
    kQuiet,  // errors only
  };

  explicit ProgressPrinter(Mode mode);

  // How often render() wants to be called.
  std::chrono::milliseconds interval() const;
  void render(const std::vector<FileStatus>& active);
  // A file finished (done or failed).
  void outcome(const FileStatus& status);
  // A free-form notice, e.g. "interrupted".
  void notice(const std::string& text);

 private:
  void erase_bars();
  static int terminal_width();

  Mode mode_;
  int bars_drawn_ = 0;
  std::vector<FileStatus> last_active_;
};

// kBars when stderr is a terminal, else kLines; --json and --quiet override.
ProgressPrinter::Mode choose_mode(bool json, bool quiet);

}  // namespace haul::cli
