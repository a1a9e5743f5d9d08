// Reads tqdm progress bars, as printed by `hf download` / huggingface_hub
// (unit "B", unit_scale: 1000-based "3.65G/8.12G ... 120MB/s"), by civitdl
// (unit "iB": "60.9MiB/s" is still 1000-based) and by Python tools in
// general: "{desc}: {pct}%|{bar}| {n}/{total} [{elapsed}<{remaining},
// {rate}{postfix}]", the size-less "{desc}: {n}{unit} [{elapsed}, {rate}]",
// and the hf_xet "{desc}: {pct}%|{bar}| {n}B / {total}B {postfix}" form.
// Frames are '\r'-redrawn; close() ends the last one with '\n'.
//
// Reports: kStageStart when a bar's description first appears (name = the
// description, e.g. the file name); kProgress per frame (percent; for byte
// units also downloaded, total, speed; elapsed, remaining); kStageComplete
// when a bar closes at 100% (or closes without a total); kError for Python
// "SomethingError: ..." lines and "Error: ..."; kMessage otherwise.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "remote/progress/line_splitter.hpp"

namespace haul::remote::progress {

struct TqdmFrame {
  std::string description;  // without the ": " separator
  std::optional<double> percent;
  std::optional<double> count;  // n, scaled by its SI prefix (1000-based)
  std::optional<double> total;
  std::string unit;            // "B", "iB", "it", "files"... ("" when the frame shows none)
  std::optional<double> rate;  // units per second
  std::optional<std::int64_t> elapsed_seconds;
  std::optional<std::int64_t> remaining_seconds;
  bool bracketed = false;  // ends with "[...]": the frame is whole

  // Units that mean bytes: "B" (huggingface_hub) and "iB" (civitdl).
  bool bytes() const { return unit == "B" || unit == "iB"; }
};

// Parses one tqdm frame; nullopt when the text is no tqdm bar.
std::optional<TqdmFrame> parse_tqdm_frame(std::string_view text);

// A kProgress update for `frame` with the given stage and name.
ProgressUpdate tqdm_update(const TqdmFrame& frame, std::string_view stage, std::string_view name);

class TqdmParser final : public LineParser {
 public:
  std::string_view tool() const override { return "tqdm"; }

 protected:
  void on_line(const Line& line, std::vector<ProgressUpdate>& out) override;
  bool frame_complete(std::string_view pending) const override;

 private:
  struct BarState {
    bool completed = false;
    double last_count = 0;
  };
  std::map<std::string, BarState> bars_;  // by description
};

// True for a Python error line: "ValueError: x", "huggingface_hub.errors.
// GatedRepoError: 401 Client Error", "requests.exceptions.HTTPError: ...".
bool is_python_error_line(std::string_view text);

}  // namespace haul::remote::progress
