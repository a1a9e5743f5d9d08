// Reads GNU wget 1.x output (stderr): the dot display in all four styles
// (default, binary, mega, giga; what wget prints when stderr is not a TTY)
// and the bar display ('\r'-redrawn, also with --progress=bar:force:noscroll),
// plus "Saving to:", "... saved [N/N]" and the error lines. Sizes and speeds
// are 1024-based (K, M, G). Run wget with LC_ALL=C: other locales change the
// quotes and may print "2,45MB/s".
//
// Reports: kStageStart at "Saving to:" (name, total); kProgress per dot row
// or bar frame (percent, downloaded, total, speed, remaining; elapsed on the
// last row; a bar's "--.-KB/s", nothing measured yet or stalled, is speed 0); kStageComplete at
// "saved [...]" or "already fully retrieved"; kError for "ERROR 404: ...", "failed: ...", "wget:
// ..." and similar lines; kMessage for the other status lines.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "remote/progress/line_splitter.hpp"

namespace haul::remote::progress {

class WgetParser final : public LineParser {
 public:
  // `name_hint`: the -O file name, used until wget prints "Saving to:".
  explicit WgetParser(std::string name_hint = {});

  std::string_view tool() const override { return "wget"; }

 protected:
  void on_line(const Line& line, std::vector<ProgressUpdate>& out) override;

 private:
  bool dot_row(std::string_view text, std::vector<ProgressUpdate>& out);
  bool bar_frame(std::string_view text, std::vector<ProgressUpdate>& out);
  bool saved_line(std::string_view text, std::vector<ProgressUpdate>& out);
  bool error_line(std::string_view text, std::vector<ProgressUpdate>& out);
  void length_line(std::string_view value);
  ProgressUpdate update(ProgressUpdate::Kind kind) const;

  std::string name_;
  std::optional<std::uint64_t> total_;
  // Bytes per dot, from the row layout or, for a layout that is none of
  // wget's four styles, from two consecutive row offsets.
  std::optional<std::uint64_t> dot_bytes_;
  std::optional<std::uint64_t> last_row_start_;
  std::size_t previous_dots_ = 0;
};

}  // namespace haul::remote::progress
