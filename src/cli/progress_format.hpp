// Text for the three progress outputs of `haul get`: a terminal bar per file,
// one plain line per file per second for pipes, and JSON lines. Pure functions
// over a snapshot, so the wording is unit-tested without a terminal.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "base/error.hpp"
#include "transfer/engine.hpp"

namespace haul::cli {

struct FileStatus {
  enum class State {
    kActive,
    kDone,
    kFailed,
    kStopped,  // interrupted; the partial file is kept for a resume
  };

  transfer::TransferId id = 0;
  std::string source;  // what is fetched (URL or source key), redacted: JSON's "url"
  std::string name;    // shown until the server names the file: the user's words
  State state = State::kActive;
  transfer::TransferProgress progress;
  std::optional<transfer::TransferResult> result;
  std::optional<Error> error;
  std::chrono::steady_clock::time_point started{};
  std::chrono::steady_clock::time_point ended{};

  // The file name once known, else the name, else the source.
  std::string label() const;
};

// "model.gguf   45% [=========>          ] 1.21 GiB/2.70 GiB  112 MiB/s  ETA 13s"
// fitted to `width` columns.
std::string format_bar_line(const FileStatus& status, int width);

// "model.gguf 45% 1.21 GiB/2.70 GiB 112 MiB/s ETA 13s"
std::string format_plain_line(const FileStatus& status);

// "model.gguf: done, 2.70 GiB in 24s (112 MiB/s)", "error: <source>: <message>"
// or "model.gguf: stopped at 1.20 GiB; run the same command again to resume"
std::string format_outcome_line(const FileStatus& status);

// One JSON object (no trailing newline): {"event":"progress"|"done"|"error"|"stopped", ...}
std::string format_json_event(const FileStatus& status);

std::string_view stage_name(transfer::TransferStage stage);

}  // namespace haul::cli
