// What the scheduler tells the world: one Event per job change, fanned out to
// WebSocket, Socket.IO and SSE subscribers and kept in a bounded log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/job.hpp"

namespace haul::core {

enum class EventType {
  kAdded,     // a new job
  kState,     // queued/paused/retrying/running... (any change but the ones below)
  kProgress,  // bytes moved; at most a few per second per job
  kCompleted,
  kFailed,
  kCancelled,
  kRemoved,  // the record was deleted
};

// "added", "state", "progress", "completed", "failed", "cancelled", "removed"
std::string_view event_type_name(EventType type);
// The event a job's move into `state` publishes: completed, failed and
// cancelled have their own; every other state is a state change.
EventType event_type_for(JobState state);

// What a remote job's commands report while they run (seed 001's
// resource_install_progress): not kept in the log, only passed to listeners.
struct InstallProgress {
  std::string job_id;
  std::string resource;  // the resource card ("loras/wan21_fusionx.md"); "" for other commands
  std::string type;      // "stage_start", "progress", "stage_complete", "retrying"
  std::string name;      // card or model name
  std::string stage;     // "model", "images", "cache", "download", ...
  std::optional<double> percent;
  std::optional<std::uint64_t> downloaded, total;  // bytes
  std::optional<double> speed;                     // bytes/s
  std::optional<std::int64_t> elapsed_seconds, remaining_seconds;
  // type "retrying": the attempt that failed, why, and when the next starts.
  int attempt = 0;
  int max_attempts = 0;
  std::string error;
  std::optional<TimePoint> next_attempt_at;
};

struct Event {
  std::uint64_t id = 0;  // strictly increasing across restarts (SSE ids)
  EventType type = EventType::kState;
  TimePoint at{};
  Job job;  // the job as it is after the change
  // A change another node made and stored (a shared queue), told here for
  // this node's clients: not stored again.
  bool relayed = false;
};

}  // namespace haul::core
