// Socket.IO namespace "/resources" (seed 001): a client emits
// `subscribe_install {job_id}`, joins that job's room and gets `subscribed`;
// the room then receives resource_install_progress (stage_start, progress,
// stage_complete), resource_install_complete and resource_install_error.
// Control thread only.
#pragma once

#include <cstdint>

#include "scheduler/event_bus.hpp"

namespace haul::api {

namespace socketio {
class Namespace;
}

class ResourcesFeed {
 public:
  ResourcesFeed(scheduler::EventBus& bus, socketio::Namespace& resources);
  ~ResourcesFeed();
  ResourcesFeed(const ResourcesFeed&) = delete;
  ResourcesFeed& operator=(const ResourcesFeed&) = delete;

 private:
  void on_progress(const core::InstallProgress& progress);
  void on_event(const core::Event& event);

  scheduler::EventBus& bus_;
  socketio::Namespace& resources_;
  std::uint64_t progress_handle_ = 0;
  std::uint64_t event_handle_ = 0;
};

}  // namespace haul::api
