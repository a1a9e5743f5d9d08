// The download channel: turns every scheduler event into one encoded entry
// and hands it to the WebSocket and SSE subscribers, to the Socket.IO
// "/downloads" namespace and to the recorder (the stored event log). Each
// event is encoded once, whoever receives it. Control thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
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
  // Called with every entry except progress, in event order.
  using Recorder = std::function<void(const core::Event&, const Message&)>;

  // `downloads` may be null (no Socket.IO); so may `recorder`.
  LiveFeed(scheduler::EventBus& bus, socketio::Namespace* downloads, Recorder recorder = {});
  ~LiveFeed();
  LiveFeed(const LiveFeed&) = delete;
  LiveFeed& operator=(const LiveFeed&) = delete;

  void add(Outbox& outbox);
  void remove(Outbox& outbox);
  // The models channel (WebSocket "models"; SSE streams get both): `model`
  // events, also emitted on Socket.IO "/downloads" as "model".
  void add_models(Outbox& outbox);
  void remove_models(Outbox& outbox);
  // {"channel":"models","type":"model","data": data}.
  void publish_model(const nlohmann::json& data);
  std::size_t subscribers() const { return outboxes_.size(); }

  // The channel's encoding of an event; nullopt for events it does not carry.
  static std::optional<Message> encode(const core::Event& event);

 private:
  static std::optional<Message> encode(const core::Event& event, const nlohmann::json& message);

  scheduler::EventBus& bus_;
  socketio::Namespace* downloads_;
  Recorder recorder_;
  std::uint64_t handle_ = 0;
  std::set<Outbox*> outboxes_;
  std::set<Outbox*> model_outboxes_;
};

}  // namespace haul::api
