// Reads aria2c's console output: the readout "[#gid done/total(pct%) CN:n
// DL:speed ETA:t]" (one line a second when not on a TTY, '\r'-redrawn and
// coloured on one), the several-item form "[DL:x][#gid a/b(p%)][#gid ...]",
// the "Download Progress Summary" boxes (they name each gid's file), the
// NOTICE/ERROR lines with their "-> ... errorCode=N reason" causes, and the
// "Download Results" table. Sizes are 1024-based (KiB, MiB, GiB); DL: has no
// "/s".
//
// Reports: kStageStart when a gid first shows progress; kProgress per
// readout (percent, downloaded, total, speed, remaining; summed over items
// when there are several); kStageComplete at "Download complete: PATH" or an
// OK row of the results; kError with the innermost errorCode reason (e.g.
// "errorCode=3 Resource not found") or an ERR row; kMessage otherwise.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "remote/progress/line_splitter.hpp"

namespace haul::remote::progress {

// One item of a readout: "#74940e 1.4MiB/5.7MiB(24%) CN:1 DL:1.4MiB ETA:2s".
struct Aria2Item {
  std::string gid;
  double done = 0;
  std::optional<double> total;  // unknown while aria2c shows "0B"
  std::optional<double> percent;
  std::optional<double> speed;
  std::optional<std::int64_t> eta_seconds;
};

struct Aria2Readout {
  std::optional<double> speed;  // the leading "[DL:2.8MiB]" of a several-item readout
  std::vector<Aria2Item> items;
};

// Parses a readout line; nullopt for anything else.
std::optional<Aria2Readout> parse_aria2_readout(std::string_view line);

// "1.4MiB", "922KiB", "0B", "1,234MiB": bytes.
std::optional<double> parse_aria2_size(std::string_view text);

class Aria2cParser final : public LineParser {
 public:
  // `name_hint`: the -o name or the URL's file name, until aria2c names it.
  explicit Aria2cParser(std::string name_hint = {});

  std::string_view tool() const override { return "aria2c"; }

 protected:
  void on_line(const Line& line, std::vector<ProgressUpdate>& out) override;
  void on_finish(std::vector<ProgressUpdate>& out) override;
  bool frame_complete(std::string_view pending) const override;

 private:
  void readout(const Aria2Readout& readout, std::vector<ProgressUpdate>& out);
  bool result_row(std::string_view text, std::vector<ProgressUpdate>& out);
  void flush_exception(std::vector<ProgressUpdate>& out);
  void complete(const std::string& name, std::vector<ProgressUpdate>& out);
  std::string name_of(const std::string& gid) const;

  std::string name_hint_;
  std::vector<std::pair<std::string, std::string>> gid_names_;  // from FILE: lines
  std::set<std::string> started_;
  std::set<std::string> completed_;
  std::string box_gid_;  // inside a summary box: the gid of the last readout
  bool in_box_ = false;
  bool in_results_ = false;
  std::string exception_;  // the reason of the exception being printed
  bool error_reported_ = false;
};

}  // namespace haul::remote::progress
