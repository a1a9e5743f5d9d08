// The Engine.IO side: the session table and the two transports. A polling
// GET waits on the session's wake timer; a WebSocket request takes the
// stream over, probes ("2probe"/"3probe"/"5") when it upgrades a polling
// session, then reads in this coroutine while a second one writes.
#include "api/socketio/engine.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <random>

#include "api/http/coroutines.hpp"

namespace haul::api::socketio {

namespace websocket = beast::websocket;

namespace {

const char* error_message(EngineError error) {
  switch (error) {
    case EngineError::kUnknownTransport:
      return "Transport unknown";
    case EngineError::kUnknownSid:
      return "Session ID unknown";
    case EngineError::kBadHandshakeMethod:
      return "Bad handshake method";
    case EngineError::kBadRequest:
      return "Bad request";
    case EngineError::kForbidden:
      return "Forbidden";
    case EngineError::kUnsupportedProtocolVersion:
      return "Unsupported protocol version";
  }
  return "Bad request";
}

Response engine_error(EngineError error, const Request& request,
                      http::status status = http::status::bad_request) {
  const Json body{{"code", static_cast<int>(error)}, {"message", error_message(error)}};
  return json_response(status, body.dump(), request);
}

Response text_response(const Request& request, std::string body) {
  Response response{http::status::ok, request.version()};
  response.set(http::field::content_type, "text/plain; charset=UTF-8");
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

std::string normalize(const std::string& name) {
  return name.empty() || name.front() != '/' ? "/" + name : name;
}

// Closes a probe WebSocket that never completes the upgrade.
Awaitable<void> upgrade_guard(std::weak_ptr<WsStream> weak, std::shared_ptr<bool> done,
                              std::chrono::milliseconds timeout) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(timeout);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (*done) co_return;
  if (auto ws = weak.lock()) beast::get_lowest_layer(*ws).close();
}

}  // namespace

Engine::Engine(asio::io_context& io, Options options) : io_(io), options_(options) { of("/"); }

Namespace& Engine::of(const std::string& name) {
  const std::string key = normalize(name);
  auto it = namespaces_.find(key);
  if (it == namespaces_.end()) {
    it = namespaces_.emplace(key, std::unique_ptr<Namespace>(new Namespace(key))).first;
  }
  return *it->second;
}

Namespace* Engine::find(const std::string& name) {
  auto it = namespaces_.find(name);
  return it == namespaces_.end() ? nullptr : it->second.get();
}

std::string Engine::new_id() const {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  // Unpredictable: a sid is all a request needs to act as its client.
  std::random_device random;
  while (true) {
    std::array<std::uint8_t, 15> bytes{};
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
      const std::uint32_t r = random();
      bytes[i] = static_cast<std::uint8_t>(r);
      bytes[i + 1] = static_cast<std::uint8_t>(r >> 8);
      bytes[i + 2] = static_cast<std::uint8_t>(r >> 16);
    }
    std::string id;
    id.reserve(20);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
      const std::uint32_t triple = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
      for (int shift = 18; shift >= 0; shift -= 6)
        id.push_back(kAlphabet[(triple >> shift) & 0x3f]);
    }
    if (!sessions_.contains(id)) return id;
  }
}

std::shared_ptr<Session> Engine::open_session(Transport transport) {
  auto session = std::make_shared<Session>(*this, new_id(), transport);
  sessions_.emplace(session->sid(), session);
  asio::co_spawn(io_, session->heartbeat(shared_from_this()), asio::detached);
  spdlog::debug("socket.io session {} opened ({})", session->sid(), transport_name(transport));
  return session;
}

std::string Engine::open_packet(const Session& session) const {
  const bool polling = session.state().transport() != Transport::kWebSocket;
  const Json body{{"sid", session.sid()},
                  {"upgrades", polling ? Json::array({"websocket"}) : Json::array()},
                  {"pingInterval", options_.ping_interval.count()},
                  {"pingTimeout", options_.ping_timeout.count()},
                  {"maxPayload", options_.max_payload}};
  return engine::encode_packet(engine::PacketType::kOpen, body.dump());
}

std::shared_ptr<Session> Engine::find_session(const std::string& sid) const {
  auto it = sessions_.find(sid);
  return it == sessions_.end() ? nullptr : it->second;
}

void Engine::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  // The objects the handlers use are being destroyed too.
  for (auto& [name, nsp] : namespaces_) nsp->clear_handlers();
  std::vector<std::shared_ptr<Session>> sessions;
  sessions.reserve(sessions_.size());
  for (auto& [sid, session] : sessions_) sessions.push_back(session);
  for (auto& session : sessions) session->close("server shutting down");
}

Awaitable<HandlerResult> Engine::handle_get(Request& request, Stream& stream, RouteParams& params) {
  auto self = shared_from_this();
  if (shut_down_) {
    co_return error_response(http::status::service_unavailable, "unavailable",
                             "Socket.IO is shutting down", request);
  }
  if (auto error = check_query(params, false)) co_return engine_error(*error, request);
  const std::string transport = *params.query_value("transport");
  std::shared_ptr<Session> session;
  if (auto sid = params.query_value("sid")) {
    session = find_session(*sid);
    if (!session) co_return engine_error(EngineError::kUnknownSid, request);
  }
  if (transport == "websocket") {
    if (!websocket::is_upgrade(request)) co_return engine_error(EngineError::kBadRequest, request);
    if (session && session->state().transport() != Transport::kPolling) {
      co_return engine_error(EngineError::kBadRequest, request);
    }
    co_return co_await serve_websocket(request, stream, std::move(session));
  }
  if (!session) {
    session = open_session(Transport::kPolling);
    co_return text_response(request, open_packet(*session));
  }
  co_return co_await poll(request, std::move(session));
}

Awaitable<HandlerResult> Engine::poll(Request& request, std::shared_ptr<Session> session) {
  if (!session->state().begin_get()) {
    // Two GETs at once break the protocol; a GET after the upgrade is only stale.
    if (session->state().transport() != Transport::kWebSocket)
      session->close("overlapping polling GET");
    co_return engine_error(EngineError::kBadRequest, request);
  }
  // Pings arrive every ping interval, so the wait normally ends before this.
  auto packets =
      co_await session->next_packets(true, options_.ping_interval + options_.ping_timeout);
  session->state().end_get();
  std::string body;
  if (!packets.empty()) {
    body = engine::encode_payload(packets);
  } else if (session->closed()) {
    body = engine::encode_packet(engine::PacketType::kClose);
  } else {
    body = engine::encode_packet(
        engine::PacketType::kNoop);  // upgrading: lets the client pause polling
  }
  co_return text_response(request, std::move(body));
}

Awaitable<HandlerResult> Engine::handle_post(Request& request, Stream&, RouteParams& params) {
  auto self = shared_from_this();
  if (shut_down_) {
    co_return error_response(http::status::service_unavailable, "unavailable",
                             "Socket.IO is shutting down", request);
  }
  if (auto error = check_query(params, true)) co_return engine_error(*error, request);
  auto session = find_session(*params.query_value("sid"));
  if (!session) co_return engine_error(EngineError::kUnknownSid, request);
  if (request.body().size() > options_.max_payload) {
    session->close("payload too large");
    co_return engine_error(EngineError::kBadRequest, request, http::status::payload_too_large);
  }
  if (!session->state().begin_post()) {
    session->close("overlapping polling POST");
    co_return engine_error(EngineError::kBadRequest, request);
  }
  auto packets = engine::decode_payload(request.body());
  if (!packets) {
    session->state().end_post();
    spdlog::debug("socket.io session {}: {}", session->sid(), packets.error().message);
    session->close("parse error");
    co_return engine_error(EngineError::kBadRequest, request);
  }
  for (const engine::Packet& packet : *packets) {
    if (session->closed()) break;
    session->handle_packet(packet);
  }
  session->state().end_post();
  co_return text_response(request, "ok");
}

Awaitable<HandlerResult> Engine::serve_websocket(Request& request, Stream& stream,
                                                 std::shared_ptr<Session> session) {
  auto ws = std::make_shared<WsStream>(std::move(stream));
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(10);
  timeouts.idle_timeout = websocket::stream_base::none();  // the heartbeat watches liveness
  timeouts.keep_alive_pings = false;
  ws->set_option(timeouts);
  ws->read_message_max(options_.max_payload);
  boost::system::error_code ec;
  co_await ws->async_accept(request, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return std::nullopt;

  if (!session) {
    // WebSocket from the start (transports: ["websocket"]).
    if (shut_down_) co_return std::nullopt;
    session = open_session(Transport::kWebSocket);
    session->attach_websocket(ws);
    const std::string open = open_packet(*session);  // the first frame, before the writer starts
    ws->text(true);
    co_await ws->async_write(asio::buffer(open), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      session->close("transport error");
      co_return std::nullopt;
    }
  } else {
    if (session->closed() || !session->state().begin_probe()) {
      beast::get_lowest_layer(*ws).close();
      co_return std::nullopt;
    }
    session->attach_websocket(ws);
    auto done = std::make_shared<bool>(false);
    asio::co_spawn(io_, upgrade_guard(ws, done, options_.upgrade_timeout), asio::detached);
    const bool upgraded = co_await probe(*session, *ws);
    *done = true;
    if (!upgraded) {
      if (!session->closed()) {
        session->state().abort_upgrade();
        session->detach_websocket();
      }
      beast::get_lowest_layer(*ws).close();
      co_return std::nullopt;
    }
    spdlog::debug("socket.io session {} upgraded to websocket", session->sid());
  }
  asio::co_spawn(io_, session->websocket_writer(ws), asio::detached);
  co_await read_websocket(session, ws);
  co_return std::nullopt;
}

Awaitable<bool> Engine::probe(Session& session, WsStream& ws) {
  beast::flat_buffer buffer;
  while (true) {
    boost::system::error_code ec;
    buffer.clear();
    co_await ws.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || session.closed() || !ws.got_text()) co_return false;
    const auto packet = engine::decode_packet(beast::buffers_to_string(buffer.data()));
    if (!packet) co_return false;
    if (packet->type == engine::PacketType::kPing && packet->data == "probe") {
      if (!session.state().probe_received()) co_return false;
      session.wake();  // the waiting GET answers now, so the client can pause polling
      const std::string pong = engine::encode_packet(engine::PacketType::kPong, "probe");
      ws.text(true);
      co_await ws.async_write(asio::buffer(pong), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return false;
      continue;
    }
    if (packet->type == engine::PacketType::kUpgrade)
      co_return !session.closed() && session.state().complete_upgrade();
    co_return false;  // anything else during the probe fails the upgrade, as in the reference
                      // server
  }
}

Awaitable<void> Engine::read_websocket(std::shared_ptr<Session> session,
                                       std::shared_ptr<WsStream> ws) {
  beast::flat_buffer buffer;
  while (!session->closed()) {
    buffer.clear();
    boost::system::error_code ec;
    co_await ws->async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      session->close(ec == websocket::error::closed ? "transport close" : "transport error");
      break;
    }
    if (!ws->got_text()) {
      session->close("parse error");  // binary frames carry binary packets, which are not supported
      break;
    }
    const auto packet = engine::decode_packet(beast::buffers_to_string(buffer.data()));
    if (!packet) {
      session->close("parse error");
      break;
    }
    session->handle_packet(*packet);
  }
}

}  // namespace haul::api::socketio
