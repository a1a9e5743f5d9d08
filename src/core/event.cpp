#include "core/event.hpp"

namespace haul::core {

std::string_view event_type_name(EventType type) {
  switch (type) {
    case EventType::kAdded:
      return "added";
    case EventType::kState:
      return "state";
    case EventType::kProgress:
      return "progress";
    case EventType::kCompleted:
      return "completed";
    case EventType::kFailed:
      return "failed";
    case EventType::kCancelled:
      return "cancelled";
    case EventType::kRemoved:
      return "removed";
  }
  return "state";
}

EventType event_type_for(JobState state) {
  switch (state) {
    case JobState::kCompleted:
      return EventType::kCompleted;
    case JobState::kFailed:
      return EventType::kFailed;
    case JobState::kCancelled:
      return EventType::kCancelled;
    default:
      return EventType::kState;
  }
}

}  // namespace haul::core
