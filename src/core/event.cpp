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

}  // namespace haul::core
