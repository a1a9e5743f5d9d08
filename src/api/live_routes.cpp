// The live event streams: WebSocket /api/v1/ws (channel "download") and SSE
// /api/v1/events with Last-Event-ID replay. Each connection gets an Outbox
// fed by the LiveFeed and one writer, so a slow client never holds up the
// control thread or the others.
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "api/api.hpp"
#include "api/await.hpp"
#include "api/http/coroutines.hpp"

namespace haul::api {

namespace {

namespace websocket = beast::websocket;
using nlohmann::json;
constexpr std::size_t kOutboxLimit = 1024;

Message system_message(std::string_view type, json data) {
  auto entry = std::make_shared<FeedEntry>();
  entry->type = type;
  entry->json = json{{"channel", "system"}, {"type", type}, {"data", std::move(data)}}.dump();
  return entry;
}

using WsStream = websocket::stream<Stream>;

Awaitable<void> websocket_writer(std::shared_ptr<WsStream> ws, std::shared_ptr<Outbox> outbox) {
  try {
    while (true) {
      auto message = co_await outbox->next(std::chrono::seconds(30));
      if (!message) {
        if (outbox->closed()) break;
        continue;  // idle: Beast's own pings keep the connection checked
      }
      ws->text(true);
      co_await ws->async_write(asio::buffer((*message)->json), asio::use_awaitable);
    }
  } catch (const boost::system::system_error&) {
    outbox->close();  // the reader notices the dead socket too
  }
}

Awaitable<HandlerResult> serve_websocket(ApiContext& ctx, Request& request, Stream& stream) {
  if (!websocket::is_upgrade(request)) {
    auto response = error_response(http::status::upgrade_required, "upgrade_required",
                                   "this endpoint speaks WebSocket", request);
    response.set(http::field::upgrade, "websocket");
    co_return response;
  }
  auto ws = std::make_shared<WsStream>(std::move(stream));
  ws->set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws->read_message_max(std::size_t{64} * 1024);
  co_await ws->async_accept(request, asio::use_awaitable);
  auto outbox = std::make_shared<Outbox>(co_await asio::this_coro::executor, kOutboxLimit);
  asio::co_spawn(co_await asio::this_coro::executor, websocket_writer(ws, outbox), asio::detached);
  bool subscribed = false;
  beast::flat_buffer buffer;
  try {
    while (!outbox->closed()) {
      buffer.clear();
      co_await ws->async_read(buffer, asio::use_awaitable);
      const json message = json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
      const bool subscribe = message.is_object() && message.contains("subscribe");
      const bool unsubscribe = message.is_object() && message.contains("unsubscribe");
      const json& channel =
          subscribe ? message["subscribe"] : (unsubscribe ? message["unsubscribe"] : message);
      if ((!subscribe && !unsubscribe) || !channel.is_string()) {
        outbox->push(
            system_message("error", {{"message", R"(expected {"subscribe": "download"})"}}));
      } else if (channel != "download" && channel != "models") {
        outbox->push(system_message(
            "error", {{"message", "unknown channel '" + channel.get<std::string>() + "'"}}));
      } else if (channel == "models") {
        if (subscribe) {
          ctx.feed.add_models(*outbox);
        } else {
          ctx.feed.remove_models(*outbox);
        }
        outbox->push(
            system_message(subscribe ? "subscribed" : "unsubscribed", {{"channel", "models"}}));
      } else if (subscribe) {
        if (!subscribed) ctx.feed.add(*outbox);
        subscribed = true;
        outbox->push(system_message("subscribed", {{"channel", "download"}}));
      } else {
        ctx.feed.remove(*outbox);
        subscribed = false;
        outbox->push(system_message("unsubscribed", {{"channel", "download"}}));
      }
    }
  } catch (const boost::system::system_error&) {
    // closed by the client or a dead connection
  }
  ctx.feed.remove(*outbox);
  ctx.feed.remove_models(*outbox);
  outbox->close();
  co_return std::nullopt;
}

Awaitable<bool> write_text(Stream& stream, const std::string& text) {
  boost::system::error_code ec;
  co_await asio::async_write(stream, asio::buffer(text),
                             asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

// Events after `after`: older ones from the stored log (state changes only),
// then what the in-memory ring still holds.
Awaitable<std::vector<std::pair<std::uint64_t, std::string>>> replay(ApiContext& ctx,
                                                                     std::uint64_t after) {
  std::vector<std::pair<std::uint64_t, std::string>> frames;
  bool complete = false;
  const auto recent = ctx.bus.since(after, &complete);
  if (!complete) {
    const std::uint64_t until = recent.empty() ? UINT64_MAX : recent.front().id;
    const auto executor = co_await asio::this_coro::executor;
    auto start = [&ctx, after](auto done) {
      ctx.db.read<std::vector<store::StoredEvent>>(
          [after](store::JobStore& store) { return store.events_after(after, 10000); },
          std::move(done));
    };
    auto stored = co_await await_callback<Result<std::vector<store::StoredEvent>>>(executor, start);
    if (stored) {
      for (const store::StoredEvent& event : *stored) {
        if (event.id >= until) break;
        frames.emplace_back(event.id, "id: " + std::to_string(event.id) + "\nevent: " + event.type +
                                          "\ndata: " + event.payload + "\n\n");
      }
    }
  }
  for (const core::Event& event : recent) {
    if (auto entry = LiveFeed::encode(event)) frames.emplace_back(event.id, (*entry)->sse);
  }
  co_return frames;
}

Awaitable<HandlerResult> serve_events(ApiContext& ctx, Request& request, Stream& stream,
                                      RouteParams& params) {
  std::optional<std::uint64_t> last_id;
  std::string last_text;
  if (auto it = request.find("Last-Event-ID"); it != request.end()) {
    last_text = std::string(it->value());
  } else if (auto query = params.query_value("lastEventId")) {
    last_text = *query;
  }
  if (!last_text.empty()) {
    try {
      last_id = std::stoull(last_text);
    } catch (const std::exception&) {
      co_return error_response(http::status::bad_request, "bad_request",
                               "Last-Event-ID must be a number", request);
    }
  }
  // Headers by hand: the body is an endless stream, ended by closing.
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "Connection: close\r\nX-Accel-Buffering: no\r\n\r\nretry: 3000\n\n";
  if (!co_await write_text(stream, head)) co_return std::nullopt;
  auto outbox = std::make_shared<Outbox>(co_await asio::this_coro::executor, kOutboxLimit);
  ctx.feed.add(*outbox);  // before the replay, so nothing falls in between
  ctx.feed.add_models(*outbox);
  std::uint64_t sent_up_to = 0;
  if (last_id) {
    sent_up_to = *last_id;
    const auto frames = co_await replay(ctx, *last_id);
    for (const auto& [id, frame] : frames) {
      if (!co_await write_text(stream, frame)) {
        ctx.feed.remove(*outbox);
        ctx.feed.remove_models(*outbox);
        co_return std::nullopt;
      }
      sent_up_to = std::max(sent_up_to, id);
    }
  }
  while (true) {
    auto message = co_await outbox->next(ctx.sse_keepalive);
    std::string frame;
    if (!message) {
      frame = ": keep-alive\n\n";
    } else if ((*message)->id != 0 && (*message)->id <= sent_up_to) {
      continue;  // already replayed
    } else {
      frame = (*message)->sse;
    }
    if (!co_await write_text(stream, frame)) break;
  }
  ctx.feed.remove(*outbox);
  ctx.feed.remove_models(*outbox);
  co_return std::nullopt;
}

}  // namespace

void install_live_routes(Router& router, ApiContext& ctx) {
  router.add(http::verb::get, "/api/v1/ws", [&ctx](Request& request, Stream& stream, RouteParams&) {
    return serve_websocket(ctx, request, stream);
  });
  router.add(http::verb::get, "/api/v1/events",
             [&ctx](Request& request, Stream& stream, RouteParams& params) {
               return serve_events(ctx, request, stream, params);
             });
}

}  // namespace haul::api
