// OutputPathLearner: the files wget and aria2c say they write, read from
// their output (see output_paths.hpp).
#include <algorithm>
#include <utility>

#include "base/text.hpp"
#include "remote/output_paths.hpp"
#include "remote/progress/text_fields.hpp"

namespace haul::remote {

OutputPathLearner::OutputPathLearner(std::optional<std::string> tool_dir)
    : tool_dir_(std::move(tool_dir)) {}

void OutputPathLearner::feed(std::string_view chunk) {
  std::vector<progress::Line> lines;
  splitter_.feed(chunk, lines);
  for (const auto& line : lines) on_line(line.text);
}

void OutputPathLearner::finish() {
  std::vector<progress::Line> lines;
  splitter_.finish(lines);
  for (const auto& line : lines) on_line(line.text);
}

std::optional<std::string> OutputPathLearner::resolve(std::string_view printed) const {
  printed = trim(printed);
  if (printed.empty() || has_control_char(printed) || printed.find("://") != std::string::npos)
    return std::nullopt;
  if (printed.front() == '/') return join_path("", printed);
  if (!tool_dir_) return std::nullopt;
  std::string path = join_path(*tool_dir_, printed);
  if (path.empty()) return std::nullopt;
  return path;
}

void OutputPathLearner::wrote(std::string_view printed, bool aria2c) {
  const auto path = resolve(printed);
  if (!path) return;
  for (const std::string& file : aria2c ? std::vector<std::string>{*path, *path + ".aria2"}
                                        : std::vector<std::string>{*path}) {
    if (written_.size() >= kMaxPaths) return;
    if (std::find(written_.begin(), written_.end(), file) == written_.end())
      written_.push_back(file);
  }
}

void OutputPathLearner::finished(std::string_view printed) {
  const auto path = resolve(printed);
  if (path && completed_.size() < kMaxPaths) completed_.insert(*path);
}

void OutputPathLearner::on_line(std::string_view text) {
  const std::string_view line = trim(text);
  if (line.empty()) {
    in_results_ = false;
    return;
  }
  if (line.starts_with("Saving to: ")) {  // wget
    wrote(progress::unquote_name(line.substr(11)), false);
    return;
  }
  // wget: "2026-11-22 02:31:21 (2.01 MB/s) - 'dl/model.safetensors' saved [6000000/6000000]"
  if (const std::size_t saved = line.rfind(" saved ["), dash = line.find(") - ");
      saved != std::string_view::npos && dash != std::string_view::npos && dash < saved) {
    const std::string_view counts = line.substr(saved + 8);
    const std::size_t slash = counts.find('/');
    const std::size_t close = counts.find(']');
    const bool whole = slash == std::string_view::npos ||
                       counts.substr(0, slash) == counts.substr(slash + 1, close - slash - 1);
    const std::string_view name = progress::unquote_name(line.substr(dash + 4, saved - dash - 4));
    wrote(name, false);
    if (whole) finished(name);
    return;
  }
  // aria2c's notices: "<date> [NOTICE] File already exists. Renamed to out/c.1.bin."
  if (const std::size_t at = line.find("] File already exists. Renamed to ");
      at != std::string_view::npos) {
    std::string_view name = line.substr(at + 34);
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    wrote(name, true);
    return;
  }
  if (const std::size_t at = line.find("] Download complete: "); at != std::string_view::npos) {
    const std::string_view name = line.substr(at + 21);
    wrote(name, true);
    finished(name);
    return;
  }
  if (line.starts_with("FILE: ")) {  // aria2c's progress summary
    wrote(line.substr(6), true);
    return;
  }
  if (line.starts_with("gid ") && line.find("|stat|") != std::string_view::npos) {
    in_results_ = true;
    return;
  }
  if (in_results_) {  // "a5fe7d|OK  |   1.4MiB/s|out/model.1.safetensors"
    std::size_t bars[3];
    std::size_t from = 0;
    for (std::size_t& bar : bars) {
      bar = line.find('|', from);
      if (bar == std::string_view::npos) return;
      from = bar + 1;
    }
    const std::string_view status = trim(line.substr(bars[0] + 1, bars[1] - bars[0] - 1));
    const std::string_view name = line.substr(bars[2] + 1);
    wrote(name, true);
    if (status == "OK") finished(name);
  }
}

}  // namespace haul::remote
