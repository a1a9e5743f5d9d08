#include "cli/progress_format.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "base/format.hpp"

namespace haul::cli {

namespace {

using transfer::TransferStage;

std::string percent_text(const transfer::TransferProgress& p) {
  if (!p.total || *p.total == 0) return p.total ? "100%" : "";
  const double ratio = static_cast<double>(p.bytes_done) / static_cast<double>(*p.total);
  return std::to_string(static_cast<int>(std::floor(std::clamp(ratio, 0.0, 1.0) * 100))) + "%";
}

std::string amount_text(const transfer::TransferProgress& p) {
  std::string text = format_bytes(p.bytes_done);
  if (p.total) text.append("/").append(format_bytes(*p.total));
  return text;
}

// Speed and ETA while downloading, otherwise what the download is doing.
std::string activity_text(const FileStatus& s) {
  const auto& p = s.progress;
  switch (p.stage) {
    case TransferStage::kDownloading:
      return format_speed(p.speed) + "  ETA " + format_duration(p.eta);
    case TransferStage::kConnecting:
      return "connecting";
    case TransferStage::kRetrying:
      return p.note.empty() ? "retrying" : p.note;
    case TransferStage::kVerifying:
      return "verifying";
    case TransferStage::kDone:
      return "done";
  }
  return "";
}

double seconds_between(std::chrono::steady_clock::time_point a,
                       std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Cuts to `width` display columns, counting UTF-8 code points, not bytes.
std::string fit(std::string text, std::size_t width) {
  std::size_t columns = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (++columns > width) return text.substr(0, i);
  }
  return text;
}

}  // namespace

std::string FileStatus::label() const {
  if (!progress.destination.empty()) return progress.destination.filename().string();
  if (result) return result->destination.filename().string();
  return name.empty() ? source : name;
}

std::string_view stage_name(TransferStage stage) {
  switch (stage) {
    case TransferStage::kConnecting:
      return "connecting";
    case TransferStage::kDownloading:
      return "downloading";
    case TransferStage::kRetrying:
      return "retrying";
    case TransferStage::kVerifying:
      return "verifying";
    case TransferStage::kDone:
      return "done";
  }
  return "unknown";
}

std::string format_bar_line(const FileStatus& status, int width) {
  const auto& p = status.progress;
  // Built by appending: GCC 12 warns falsely (-Wrestrict) on "lit" + std::string&&.
  std::string tail = " ";
  tail.append(percent_text(p))
      .append(" ")
      .append(amount_text(p))
      .append("  ")
      .append(activity_text(status));
  const int available = std::max(width, 40);
  // The name gets up to a third of the line; the bar what is left, if enough.
  const int name_width = std::min<int>(static_cast<int>(status.label().size()), available / 3);
  std::string name = fit(status.label(), static_cast<std::size_t>(name_width));
  name.resize(static_cast<std::size_t>(name_width), ' ');
  const int bar_width = available - name_width - static_cast<int>(tail.size()) - 4;
  std::string line = name;
  if (bar_width >= 10 && p.total && *p.total > 0) {
    const double ratio =
        std::clamp(static_cast<double>(p.bytes_done) / static_cast<double>(*p.total), 0.0, 1.0);
    const int filled = static_cast<int>(ratio * bar_width);
    std::string bar(static_cast<std::size_t>(bar_width), ' ');
    std::fill_n(bar.begin(), filled, '=');
    if (filled < bar_width) bar[static_cast<std::size_t>(filled)] = '>';
    line += " [" + bar + "]";
  }
  line += tail;
  return fit(line, static_cast<std::size_t>(available));
}

std::string format_plain_line(const FileStatus& status) {
  std::string line = status.label();
  const std::string percent = percent_text(status.progress);
  if (!percent.empty()) line.append(" ").append(percent);
  line.append(" ").append(amount_text(status.progress)).append(" ").append(activity_text(status));
  return line;
}

std::string format_outcome_line(const FileStatus& status) {
  if (status.state == FileStatus::State::kStopped) {
    return status.label() + ": stopped at " + format_bytes(status.progress.bytes_done) +
           "; run the same command again to resume";
  }
  if (status.state == FileStatus::State::kFailed) {
    return "haul get: " + status.label() + ": " + (status.error ? status.error->message : "failed");
  }
  if (!status.result) return format_plain_line(status);
  const auto& r = *status.result;
  const std::string name = r.destination.string();
  if (r.already_present) return name + ": already complete (" + format_bytes(r.size) + ")";
  const double seconds = std::max(seconds_between(status.started, status.ended), 0.001);
  const double fetched = static_cast<double>(r.size - std::min(r.size, r.resumed_bytes));
  std::string line =
      name + ": done, " + format_bytes(r.size) + " in " +
      format_duration(std::chrono::seconds(static_cast<long long>(std::llround(seconds)))) + " (" +
      format_speed(fetched / seconds) + ")";
  if (r.resumed_bytes > 0) line += ", resumed at " + format_bytes(r.resumed_bytes);
  return line;
}

std::string format_json_event(const FileStatus& status) {
  nlohmann::json j;
  j["id"] = status.id;
  j["url"] = status.source;
  const auto& p = status.progress;
  switch (status.state) {
    case FileStatus::State::kActive:
      j["event"] = "progress";
      j["stage"] = stage_name(p.stage);
      j["bytes"] = p.bytes_done;
      j["total"] = p.total ? nlohmann::json(*p.total) : nlohmann::json(nullptr);
      j["speed"] = std::llround(p.speed);
      j["eta"] = p.eta ? nlohmann::json(p.eta->count()) : nlohmann::json(nullptr);
      j["connections"] = p.connections;
      if (!p.destination.empty()) j["path"] = p.destination.string();
      if (!p.note.empty()) j["note"] = p.note;
      break;
    case FileStatus::State::kDone:
      j["event"] = "done";
      if (status.result) {
        j["path"] = status.result->destination.string();
        j["size"] = status.result->size;
        j["sha256"] = status.result->sha256;
        j["already_present"] = status.result->already_present;
        j["resumed_bytes"] = status.result->resumed_bytes;
      }
      j["seconds"] = std::round(seconds_between(status.started, status.ended) * 1000) / 1000;
      break;
    case FileStatus::State::kStopped:
      j["event"] = "stopped";
      j["bytes"] = p.bytes_done;
      if (!p.destination.empty()) j["path"] = p.destination.string();
      break;
    case FileStatus::State::kFailed:
      j["event"] = "error";
      if (status.error) {
        j["code"] = error_code_name(status.error->code);
        j["message"] = status.error->message;
        if (status.error->http_status != 0) j["http_status"] = status.error->http_status;
      }
      break;
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace haul::cli
