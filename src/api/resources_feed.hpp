// Socket.IO namespace "/resources" (seed 001): a client emits
// `subscribe_install {job_id}`, joins that job's room and gets `subscribed`;
// the room then receives resource_install_progress (stage_start, progress,
// stage_complete, retrying), resource_install_complete and
// resource_install_error. Seed 001's own client subscribes after POST
// /resources/install has answered, when the job may have started (or even
// ended): each job's events are kept, and a new subscriber first gets those
// so far, in order, then the live ones, none twice. Control thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>
#include <vector>

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
  struct History;
  void on_progress(const core::InstallProgress& progress);
  void on_event(const core::Event& event);
  // Keeps the event in the job's history, then sends it to the job's room.
  void emit(const std::string& job_id, const std::string& event, const nlohmann::json& data,
            bool finished = false);

  scheduler::EventBus& bus_;
  socketio::Namespace& resources_;
  std::uint64_t progress_handle_ = 0;
  std::uint64_t event_handle_ = 0;
  std::map<std::string, History> histories_;  // by job id
  std::deque<std::string> finished_;          // jobs whose history is complete, oldest first
};

}  // namespace haul::api
