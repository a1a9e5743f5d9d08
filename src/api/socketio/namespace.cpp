// Socket, Namespace and Server: the public side of the Socket.IO server.
// Emits encode once and share the text among every recipient's queue.
#include <spdlog/spdlog.h>

#include "api/socketio/engine.hpp"

namespace haul::api::socketio {

// ---- Socket ---------------------------------------------------------------

Socket::Socket(Key, Namespace& nsp, Session& session, std::string id, Json auth)
    : nsp_(&nsp), session_(&session), id_(std::move(id)), auth_(std::move(auth)) {}

const std::string& Socket::nsp() const { return nsp_->name(); }

void Socket::join(const std::string& room) {
  if (session_ == nullptr) return;
  if (rooms_.insert(room).second) nsp_->rooms_[room].insert(this);
}

void Socket::leave(const std::string& room) {
  if (rooms_.erase(room) == 0) return;
  auto it = nsp_->rooms_.find(room);
  if (it == nsp_->rooms_.end()) return;
  it->second.erase(this);
  if (it->second.empty()) nsp_->rooms_.erase(it);
}

void Socket::emit(const std::string& event, const Json& data) {
  if (session_ == nullptr) return;
  session_->send(encode_event_message(nsp_->name(), event, data));
}

void Socket::disconnect() {
  if (session_ == nullptr) return;
  session_->send("4" + encode_socket_packet(
                           {PacketType::kDisconnect, nsp_->name(), std::nullopt, std::nullopt}));
  session_->disconnect_socket(nsp_->name(), "server namespace disconnect");
}

void Socket::detach(const std::string& reason) {
  if (session_ == nullptr) return;
  // Copy: leave() edits rooms_.
  const std::vector<std::string> rooms(rooms_.begin(), rooms_.end());
  for (const std::string& room : rooms) leave(room);
  nsp_->sockets_.erase(id_);
  session_ = nullptr;
  if (nsp_->on_disconnect_) {
    const DisconnectHandler handler = nsp_->on_disconnect_;  // the handler may replace itself
    try {
      handler(*this, reason);
    } catch (const std::exception& e) {
      spdlog::error("socket.io {} disconnect handler failed: {}", nsp_->name(), e.what());
    }
  }
}

// ---- Namespace ------------------------------------------------------------

void Namespace::on(std::string event, EventHandler handler) {
  handlers_[std::move(event)] = std::move(handler);
}

void Namespace::emit(const std::string& event, const Json& data) {
  if (sockets_.empty()) return;
  const auto packet = std::make_shared<const std::string>(encode_event_message(name_, event, data));
  for (const auto& [id, socket] : sockets_) socket->session_->send(packet);
}

void Namespace::emit_to_room(const std::string& room, const std::string& event, const Json& data) {
  auto it = rooms_.find(room);
  if (it == rooms_.end()) return;
  const auto packet = std::make_shared<const std::string>(encode_event_message(name_, event, data));
  for (Socket* socket : it->second) socket->session_->send(packet);
}

std::size_t Namespace::room_size(const std::string& room) const {
  auto it = rooms_.find(room);
  return it == rooms_.end() ? 0 : it->second.size();
}

void Namespace::notify_connect(Socket& socket) {
  if (!on_connect_) return;
  const ConnectHandler handler = on_connect_;
  try {
    handler(socket);
  } catch (const std::exception& e) {
    // A throwing handler must not take the connection's coroutine down.
    spdlog::error("socket.io {} connect handler failed: {}", name_, e.what());
  }
}

void Namespace::dispatch_event(Socket& socket, Json data, std::optional<std::uint64_t> ack_id) {
  const std::string event =
      data.at(0).get<std::string>();  // decode_socket_packet checked the shape
  auto it = handlers_.find(event);
  if (it == handlers_.end()) return;
  data.erase(data.begin());
  Ack ack;
  if (ack_id) {
    // `done` is shared so copies of the ack still answer only once.
    ack = [weak = socket.weak_from_this(), id = *ack_id,
           done = std::make_shared<bool>(false)](const Json& args) {
      if (*done) return;
      *done = true;
      auto target = weak.lock();
      if (!target || !target->connected()) return;
      target->session_->send(encode_ack_message(target->nsp(), id, args));
    };
  }
  const EventHandler handler = it->second;  // the handler may replace itself with on()
  try {
    handler(socket, data, std::move(ack));
  } catch (const std::exception& e) {
    spdlog::error("socket.io {} handler for '{}' failed: {}", name_, event, e.what());
  }
}

void Namespace::clear_handlers() {
  on_connect_ = nullptr;
  on_disconnect_ = nullptr;
  handlers_.clear();
}

// ---- Server ---------------------------------------------------------------

Server::Server(asio::io_context& io, Options options)
    : engine_(std::make_shared<Engine>(io, options)) {}

Server::~Server() { engine_->shutdown(); }

Namespace& Server::of(const std::string& name) { return engine_->of(name); }

void Server::install(Router& router) {
  // The routes share ownership: a request that arrives after ~Server finds
  // the engine shut down rather than destroyed.
  std::shared_ptr<Engine> engine = engine_;
  router.add(http::verb::get, "/socket.io/",
             [engine](Request& request, Stream& stream, RouteParams& params) {
               return engine->handle_get(request, stream, params);
             });
  router.add(http::verb::post, "/socket.io/",
             [engine](Request& request, Stream& stream, RouteParams& params) {
               return engine->handle_post(request, stream, params);
             });
}

std::size_t Server::client_count() const { return engine_->client_count(); }

const Options& Server::options() const { return engine_->options(); }

}  // namespace haul::api::socketio
