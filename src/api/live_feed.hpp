// The download channel: turns every scheduler event into one encoded entry
// and hands it to the WebSocket and SSE subscribers and to the Socket.IO
// "/downloads" namespace. Control thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <set>

#include "api/outbox.hpp"
#include "core/event.hpp"
#include "scheduler/event_bus.hpp"

namespace haul::api {

namespace socketio {
class Namespace;
}

class LiveFeed {
 public:
  // `downloads` may be null (no Socket.IO).
  LiveFeed(scheduler::EventBus& bus, socketio::Namespace* downloads);
  ~LiveFeed();
  LiveFeed(const LiveFeed&) = delete;
  LiveFeed& operator=(const LiveFeed&) = delete;

  void add(Outbox& outbox);
  void remove(Outbox& outbox);
  std::size_t subscribers() const { return outboxes_.size(); }

  // The channel's encoding of an event; nullopt for events it does not carry.
  static std::optional<Message> encode(const core::Event& event);

 private:
  scheduler::EventBus& bus_;
  socketio::Namespace* downloads_;
  std::uint64_t handle_ = 0;
  std::set<Outbox*> outboxes_;
};

}  // namespace haul::api
