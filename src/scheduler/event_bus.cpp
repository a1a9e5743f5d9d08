#include "scheduler/event_bus.hpp"

#include <algorithm>
#include <chrono>

namespace haul::scheduler {

EventBus::EventBus(std::uint64_t first_id, std::size_t ring_capacity)
    : next_id_(first_id + 1), capacity_(ring_capacity) {}

std::uint64_t EventBus::subscribe(Listener listener) {
  const std::uint64_t handle = next_handle_++;
  listeners_.emplace(handle, std::move(listener));
  return handle;
}

void EventBus::unsubscribe(std::uint64_t handle) { listeners_.erase(handle); }

const core::Event& EventBus::publish(core::EventType type, const core::Job& job, bool relayed) {
  core::Event event;
  event.at = core::Clock::now();
  if (clock_ids_) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(event.at.time_since_epoch()).count();
    next_id_ = std::max(next_id_, static_cast<std::uint64_t>(ms) * 1000);
  }
  event.id = next_id_++;
  event.type = type;
  event.job = job;
  event.relayed = relayed;
  ring_.push_back(std::move(event));
  if (ring_.size() > capacity_) ring_.pop_front();
  const core::Event& stored = ring_.back();
  // A listener may unsubscribe itself: iterate over a snapshot of handles.
  std::vector<std::uint64_t> handles;
  handles.reserve(listeners_.size());
  for (const auto& [handle, listener] : listeners_) handles.push_back(handle);
  for (std::uint64_t handle : handles) {
    auto it = listeners_.find(handle);
    if (it != listeners_.end()) it->second(stored);
  }
  return stored;
}

std::uint64_t EventBus::subscribe_install(InstallListener listener) {
  const std::uint64_t handle = next_handle_++;
  install_listeners_.emplace(handle, std::move(listener));
  return handle;
}

void EventBus::unsubscribe_install(std::uint64_t handle) { install_listeners_.erase(handle); }

void EventBus::publish_install(const core::InstallProgress& progress) {
  std::vector<std::uint64_t> handles;
  for (const auto& [handle, listener] : install_listeners_) handles.push_back(handle);
  for (std::uint64_t handle : handles) {
    auto it = install_listeners_.find(handle);
    if (it != install_listeners_.end()) it->second(progress);
  }
}

std::vector<core::Event> EventBus::since(std::uint64_t after, bool* complete) const {
  std::vector<core::Event> events;
  for (const core::Event& event : ring_) {
    if (event.id > after) events.push_back(event);
  }
  if (complete != nullptr) {
    // After a restart the ring starts empty: only ids it never issued are "complete".
    *complete = ring_.empty() ? after + 1 >= next_id_ : ring_.front().id <= after + 1;
  }
  return events;
}

}  // namespace haul::scheduler
