#include "api/live_feed.hpp"

#include <nlohmann/json.hpp>

#include "api/dto.hpp"
#include "api/socketio/server.hpp"

namespace haul::api {

LiveFeed::LiveFeed(scheduler::EventBus& bus, socketio::Namespace* downloads)
    : bus_(bus), downloads_(downloads) {
  handle_ = bus_.subscribe([this](const core::Event& event) {
    auto entry = encode(event);
    if (!entry) return;
    for (Outbox* outbox : outboxes_) outbox->push(*entry);
    if (downloads_ != nullptr) {
      downloads_->emit((*entry)->type, download_status(event.job));
    }
  });
}

LiveFeed::~LiveFeed() { bus_.unsubscribe(handle_); }

void LiveFeed::add(Outbox& outbox) { outboxes_.insert(&outbox); }
void LiveFeed::remove(Outbox& outbox) { outboxes_.erase(&outbox); }

std::optional<Message> LiveFeed::encode(const core::Event& event) {
  const nlohmann::json message = download_message(event);
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
