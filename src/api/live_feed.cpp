#include "api/live_feed.hpp"

#include <nlohmann/json.hpp>

#include "api/dto.hpp"
#include "api/socketio/server.hpp"

namespace haul::api {

LiveFeed::LiveFeed(scheduler::EventBus& bus, socketio::Namespace* downloads, Recorder recorder)
    : bus_(bus), downloads_(downloads), recorder_(std::move(recorder)) {
  handle_ = bus_.subscribe([this](const core::Event& event) {
    const bool recorded = recorder_ && event.type != core::EventType::kProgress;
    const bool socketio = downloads_ != nullptr && downloads_->socket_count() > 0;
    if (!recorded && !socketio && outboxes_.empty()) return;  // nobody to encode for
    const nlohmann::json message = download_message(event);
    auto entry = encode(event, message);
    if (!entry) return;
    for (Outbox* outbox : outboxes_) outbox->push(*entry);
    if (socketio) downloads_->emit((*entry)->type, message.at("data"));
    if (recorded) recorder_(event, *entry);
  });
}

LiveFeed::~LiveFeed() { bus_.unsubscribe(handle_); }

void LiveFeed::add(Outbox& outbox) { outboxes_.insert(&outbox); }
void LiveFeed::remove(Outbox& outbox) { outboxes_.erase(&outbox); }
void LiveFeed::add_models(Outbox& outbox) { model_outboxes_.insert(&outbox); }
void LiveFeed::remove_models(Outbox& outbox) { model_outboxes_.erase(&outbox); }

void LiveFeed::publish_model(const nlohmann::json& data) {
  if (downloads_ != nullptr && downloads_->socket_count() > 0) downloads_->emit("model", data);
  if (model_outboxes_.empty()) return;
  auto entry = std::make_shared<FeedEntry>();
  entry->type = "model";
  entry->json = nlohmann::json{{"channel", "models"}, {"type", "model"}, {"data", data}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  entry->sse = "event: model\ndata: " + entry->json + "\n\n";
  for (Outbox* outbox : model_outboxes_) outbox->push(entry);
}

std::optional<Message> LiveFeed::encode(const core::Event& event) {
  return encode(event, download_message(event));
}

std::optional<Message> LiveFeed::encode(const core::Event& event, const nlohmann::json& message) {
  if (message.empty()) return std::nullopt;
  auto entry = std::make_shared<FeedEntry>();
  entry->id = event.id;
  entry->type = message.at("type").get<std::string>();
  entry->json = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  entry->sse = "id: " + std::to_string(event.id) + "\nevent: " + entry->type +
               "\ndata: " + entry->json + "\n\n";
  return entry;
}

}  // namespace haul::api
