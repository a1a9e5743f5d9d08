// Reads curl's progress output (stderr): the default meter, in the layout of
// curl up to 8.17 (5-column sizes, times "H:MM:SS" or "--:--:--") and the
// one from 8.18 on (6-column sizes such as "46.52M", 7-column times that are
// blank when unknown: "  MM:SS", "H:MM:SS", "10h 02m", " 4d 04h"), told
// apart by column positions; the -# bar ("####   27.3%"); and
// "curl: (N) message" errors. Meter sizes are 1024-based (k, M, G, ...).
//
// Reports: kStageStart at the meter header or the first bar frame;
// kProgress per frame (percent, downloaded, total, speed = "Current",
// elapsed = "Spent", remaining = "Left"; percent only for -#; after
// "** Resuming transfer from byte position N", downloaded and total include
// the N bytes already in the file);
// kStageComplete when the final frame shows 100%, or at the end of output
// when the size was never known and no error was printed; kError for
// "curl: (22) The requested URL returned error: 404" and the like.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "remote/progress/line_splitter.hpp"

namespace haul::remote::progress {

// One meter frame, as curl printed it (sizes in bytes, approximate: curl
// shows 3-4 significant digits).
struct CurlMeterFrame {
  double percent_total = 0;
  double total = 0;
  double percent_received = 0;
  double received = 0;
  double average_download = 0;
  std::optional<std::int64_t> time_total, time_spent, time_left;
  double current_speed = 0;
};

// Parses one meter line (either layout); nullopt for anything else.
std::optional<CurlMeterFrame> parse_curl_meter(std::string_view line);

// One time column of either layout: " 0:00:03", "--:--:--", "  00:59",
// "1:01:01", "10h 02m", " 4d 04h", "   100d", "    33m" (months),
// "    82y"; nullopt when blank or unknown.
std::optional<std::int64_t> parse_curl_time(std::string_view field);

class CurlParser final : public LineParser {
 public:
  // `name_hint`: the -o/-O file name; curl itself never prints it.
  explicit CurlParser(std::string name_hint = {});

  std::string_view tool() const override { return "curl"; }

 protected:
  void on_line(const Line& line, std::vector<ProgressUpdate>& out) override;
  void on_finish(std::vector<ProgressUpdate>& out) override;

 private:
  bool meter_frame(const Line& line, std::vector<ProgressUpdate>& out);
  bool bar_frame(const Line& line, std::vector<ProgressUpdate>& out);
  void start(std::vector<ProgressUpdate>& out);
  void complete(std::optional<std::uint64_t> downloaded, std::optional<std::uint64_t> total,
                std::vector<ProgressUpdate>& out);

  std::string name_;
  bool started_ = false;
  bool completed_ = false;
  bool error_ = false;
  // A final frame arrived without a known size: complete unless an error follows.
  bool ended_unsized_ = false;
  std::optional<std::uint64_t> last_downloaded_;
  std::uint64_t resume_offset_ = 0;  // from "** Resuming transfer from byte position N"
};

}  // namespace haul::remote::progress
