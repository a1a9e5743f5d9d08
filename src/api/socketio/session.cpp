// One Engine.IO client: its queue, heartbeat, WebSocket writer and the
// Socket.IO packets it sends. Transports (engine.cpp) feed it packets and
// drain its queue.
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "api/http/coroutines.hpp"
#include "api/socketio/engine.hpp"

namespace haul::api::socketio {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kCloseGrace = std::chrono::seconds(2);

// Closes the WebSocket's TCP connection if the graceful close did not finish
// in time (a client that stopped reading never completes it).
Awaitable<void> hard_close_later(std::weak_ptr<WsStream> weak, Clock::duration delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(delay);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (auto ws = weak.lock()) beast::get_lowest_layer(*ws).close();
}

}  // namespace

Session::Session(Engine& engine, std::string sid, Transport transport)
    : engine_(&engine),
      sid_(std::move(sid)),
      state_(transport, engine.options().max_queued_packets),
      wake_(engine.io()),
      heartbeat_(engine.io()) {}

void Session::send(engine::SharedPacket packet) {
  switch (state_.push(std::move(packet))) {
    case SessionState::Push::kQueued:
      wake_.cancel();
      break;
    case SessionState::Push::kOverflow:
      spdlog::warn("socket.io client {} is {} packets behind: disconnecting it", sid_,
                   state_.queued());
      // Posted: the caller may be iterating a namespace's sockets.
      asio::post(wake_.get_executor(), [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->close("slow client");
      });
      break;
    case SessionState::Push::kDropped:
      break;
  }
}

void Session::close(const std::string& reason) {
  if (state_.closed()) return;
  auto self = shared_from_this();  // the engine's table holds the last owner
  spdlog::debug("socket.io session {} closed: {}", sid_, reason);
  state_.close();
  state_.take_all();  // nothing more is sent; a slow client would not read it anyway
  auto sockets = std::move(sockets_);
  sockets_.clear();
  for (auto& [nsp, socket] : sockets) socket->detach(reason);
  wake_.cancel();
  heartbeat_.cancel();
  if (engine_ != nullptr) engine_->forget(sid_);
  engine_ = nullptr;
  if (auto ws = ws_.lock()) {
    if (writer_running_) {
      // The writer sends a close frame; this guards against it never finishing.
      asio::co_spawn(wake_.get_executor(), hard_close_later(ws_, kCloseGrace), asio::detached);
    } else {
      beast::get_lowest_layer(*ws).close();  // a probe WebSocket: nobody writes on it
    }
  }
}

void Session::handle_packet(const engine::Packet& packet) {
  if (state_.closed()) return;
  switch (packet.type) {
    case engine::PacketType::kPong:
      if (state_.pong_received()) heartbeat_.cancel();
      break;
    case engine::PacketType::kPing:
      send(engine::make_shared_packet(engine::PacketType::kPong,
                                      packet.data));  // Engine.IO v3 habit; harmless
      break;
    case engine::PacketType::kMessage: {
      if (packet.binary) {
        spdlog::debug("socket.io session {}: binary message ignored", sid_);
        break;
      }
      auto decoded = decode_socket_packet(packet.data);
      if (!decoded) {
        spdlog::debug("socket.io session {}: {}", sid_, decoded.error().message);
        close("parse error");
        break;
      }
      handle_socket_packet(std::move(*decoded));
      break;
    }
    case engine::PacketType::kClose:
      close("transport close");
      break;
    case engine::PacketType::kOpen:
    case engine::PacketType::kUpgrade:
    case engine::PacketType::kNoop:
      break;  // meaningless here (an upgrade is handled by the probe)
  }
}

void Session::handle_socket_packet(SocketPacket packet) {
  switch (packet.type) {
    case PacketType::kConnect:
      connect(packet);
      break;
    case PacketType::kDisconnect:
      disconnect_socket(packet.nsp, "client namespace disconnect");
      break;
    case PacketType::kEvent: {
      auto it = sockets_.find(packet.nsp);
      if (it == sockets_.end())
        break;  // not connected to that namespace: ignored, as the reference server does
      auto socket = it->second;  // the handler may disconnect it
      socket->nsp_->dispatch_event(*socket, std::move(*packet.data), packet.ack_id);
      break;
    }
    case PacketType::kAck:           // the server never asks for acks
    case PacketType::kConnectError:  // only servers send it
    default:
      break;
  }
}

void Session::connect(const SocketPacket& packet) {
  Namespace* nsp = engine_->find(packet.nsp);
  if (nsp == nullptr) {
    send("4" + encode_socket_packet({PacketType::kConnectError, packet.nsp, std::nullopt,
                                     Json{{"message", "Invalid namespace"}}}));
    return;
  }
  if (auto it = sockets_.find(packet.nsp); it != sockets_.end()) {
    // A repeated CONNECT: confirm the existing connection again.
    send("4" + encode_socket_packet({PacketType::kConnect, packet.nsp, std::nullopt,
                                     Json{{"sid", it->second->id()}}}));
    return;
  }
  Json auth = packet.data && packet.data->is_object() ? *packet.data : Json::object();
  auto socket =
      std::make_shared<Socket>(Socket::Key{}, *nsp, *this, engine_->new_id(), std::move(auth));
  sockets_.emplace(packet.nsp, socket);
  nsp->sockets_.emplace(socket->id(), socket.get());
  send("4" + encode_socket_packet(
                 {PacketType::kConnect, packet.nsp, std::nullopt, Json{{"sid", socket->id()}}}));
  nsp->notify_connect(*socket);
}

void Session::disconnect_socket(const std::string& nsp, const std::string& reason) {
  auto it = sockets_.find(nsp);
  if (it == sockets_.end()) return;
  auto socket = std::move(it->second);
  sockets_.erase(it);
  socket->detach(reason);
}

Awaitable<std::vector<engine::SharedPacket>> Session::next_packets(
    bool polling, std::chrono::milliseconds max_wait) {
  auto self = shared_from_this();
  const auto deadline = Clock::now() + max_wait;
  while (true) {
    const bool ready =
        polling ? state_.get_should_answer() : (state_.closed() || state_.has_queued());
    if (ready || Clock::now() >= deadline) break;
    wake_.expires_at(deadline);
    boost::system::error_code ec;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return state_.take_all();
}

Awaitable<bool> Session::sleep_until(Clock::time_point deadline) {
  while (!state_.closed() && Clock::now() < deadline) {
    heartbeat_.expires_at(deadline);
    boost::system::error_code ec;
    co_await heartbeat_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return !state_.closed();
}

Awaitable<void> Session::heartbeat(std::shared_ptr<Engine> engine) {
  auto self = shared_from_this();
  const Options& options = engine->options();
  while (co_await sleep_until(Clock::now() + options.ping_interval)) {
    if (sockets_.empty() && Clock::now() - created_ >= options.connect_timeout) {
      close("connect timeout");
      break;
    }
    state_.ping_sent();
    send(engine::make_shared_packet(engine::PacketType::kPing));
    // A pong cancels the timer, so this returns early when it arrives.
    const auto deadline = Clock::now() + options.ping_timeout;
    while (!state_.closed() && state_.awaiting_pong() && Clock::now() < deadline) {
      heartbeat_.expires_at(deadline);
      boost::system::error_code ec;
      co_await heartbeat_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (state_.closed()) break;
    if (state_.awaiting_pong()) {
      close("ping timeout");
      break;
    }
  }
}

Awaitable<void> Session::websocket_writer(std::shared_ptr<WsStream> ws) {
  auto self = shared_from_this();
  writer_running_ = true;
  try {
    while (!state_.closed()) {
      // The heartbeat puts a ping in the queue every interval, so the wait is
      // only a safety net.
      const auto packets = co_await next_packets(false, std::chrono::hours(1));
      for (const engine::SharedPacket& packet : packets) {
        ws->text(true);
        co_await ws->async_write(asio::buffer(*packet), asio::use_awaitable);
      }
    }
    co_await ws->async_close(beast::websocket::close_code::normal, asio::use_awaitable);
  } catch (const boost::system::system_error& e) {
    spdlog::debug("socket.io session {}: websocket write failed: {}", sid_, e.what());
    close("transport error");
  }
  writer_running_ = false;
}

}  // namespace haul::api::socketio
