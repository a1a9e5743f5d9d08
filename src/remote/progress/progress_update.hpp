// What a progress parser reads out of a remote command's output: one value per
// event, shaped after the resource_install_progress events the daemon sends
// (type stage_start|progress|stage_complete with name, stage, percent,
// downloaded, total, elapsed, remaining, speed), plus messages and errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace haul::remote::progress {

struct ProgressUpdate {
  enum class Kind {
    kStageStart,     // a file or model download began (name set when known)
    kProgress,       // a progress frame: any of percent..remaining may be set
    kStageComplete,  // the tool said the file or model is done
    kMessage,        // a status line worth showing ("Connecting to ...")
    kError,          // the tool reported a failure; `message` says what failed
  };

  Kind kind = Kind::kMessage;
  // "download" for wget, curl, aria2c and hf files; "files" for hf's
  // "Fetching N files"; civitdl: "images", "model" or "cache"; "run" for the
  // generic parser. Empty on civitdl's whole-model stage_start/stage_complete.
  std::string stage;
  // File or model name when known ("model.safetensors", "Some LoRA").
  std::string name;
  std::optional<double> percent;            // 0..100
  std::optional<std::uint64_t> downloaded;  // bytes
  std::optional<std::uint64_t> total;       // bytes
  std::optional<double> speed;              // bytes per second
  std::optional<std::int64_t> elapsed_seconds;
  std::optional<std::int64_t> remaining_seconds;
  // kMessage/kError: one line of text, ANSI codes stripped, URL queries
  // removed (they can carry tokens), at most kMaxMessageBytes.
  std::string message;

  static constexpr std::size_t kMaxMessageBytes = 512;
};

// "stage_start", "progress", "stage_complete", "message", "error": the event
// type names of the seed's resource_install_progress.
inline std::string_view kind_name(ProgressUpdate::Kind kind) {
  switch (kind) {
    case ProgressUpdate::Kind::kStageStart:
      return "stage_start";
    case ProgressUpdate::Kind::kProgress:
      return "progress";
    case ProgressUpdate::Kind::kStageComplete:
      return "stage_complete";
    case ProgressUpdate::Kind::kMessage:
      return "message";
    case ProgressUpdate::Kind::kError:
      return "error";
  }
  return "message";
}

}  // namespace haul::remote::progress
