// What the scheduler tells the world: one Event per job change, fanned out to
// WebSocket, Socket.IO and SSE subscribers and kept in a bounded log.
#pragma once

#include <cstdint>
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

struct Event {
  std::uint64_t id = 0;  // strictly increasing across restarts (SSE ids)
  EventType type = EventType::kState;
  TimePoint at{};
  Job job;  // the job as it is after the change
};

}  // namespace haul::core
