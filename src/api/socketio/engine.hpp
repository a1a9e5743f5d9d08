// Internal to the Socket.IO server: the Engine.IO session table (Engine) and
// one client's session (Session) with its transports, heartbeat and
// namespace connections. server.hpp is the public face. Control thread only,
// like everything in this folder.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/socketio/engine_packet.hpp"
#include "api/socketio/handshake.hpp"
#include "api/socketio/server.hpp"
#include "api/socketio/session_state.hpp"
#include "api/socketio/socket_packet.hpp"

namespace haul::api::socketio {

using WsStream = beast::websocket::stream<Stream>;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Engine& engine, std::string sid, Transport transport);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::string& sid() const { return sid_; }
  SessionState& state() { return state_; }
  const SessionState& state() const { return state_; }
  bool closed() const { return state_.closed(); }
  std::size_t socket_count() const { return sockets_.size(); }

  // Queues an encoded Engine.IO packet and wakes the transport. Never closes
  // synchronously (an overflow closes the session from a posted task), so it
  // is safe while iterating a namespace's sockets.
  void send(engine::SharedPacket packet);
  void send(std::string packet) { send(std::make_shared<const std::string>(std::move(packet))); }

  // Ends the session: every namespace connection is detached (running the
  // disconnect handlers), the session leaves the table, waiting transports
  // wake, and a WebSocket is closed. Idempotent.
  void close(const std::string& reason);

  // One packet from the client (a POST body or a WebSocket message).
  void handle_packet(const engine::Packet& packet);
  // The server-side end of one namespace connection.
  void disconnect_socket(const std::string& nsp, const std::string& reason);

  // Wakes the waiting polling GET or WebSocket writer.
  void wake() { wake_.cancel(); }
  // Waits until there is something for the client (or, for a polling GET,
  // until it must answer: closed, upgrading) or `max_wait` passes; returns
  // and dequeues everything queued.
  Awaitable<std::vector<engine::SharedPacket>> next_packets(bool polling,
                                                            std::chrono::milliseconds max_wait);

  // The WebSocket of this session (the probe before the upgrade completes).
  void attach_websocket(const std::shared_ptr<WsStream>& ws) { ws_ = ws; }
  void detach_websocket() { ws_.reset(); }

  // Sends "2" every ping interval and closes the session when no "3" comes
  // within the ping timeout; also closes sessions that never join a namespace.
  Awaitable<void> heartbeat(std::shared_ptr<Engine> engine);
  // The WebSocket transport's single writer: one frame per queued packet.
  Awaitable<void> websocket_writer(std::shared_ptr<WsStream> ws);

 private:
  void handle_socket_packet(SocketPacket packet);
  void connect(const SocketPacket& packet);
  // Sleeps until `deadline`; false when the session closed meanwhile.
  Awaitable<bool> sleep_until(std::chrono::steady_clock::time_point deadline);

  Engine* engine_;  // null once closed
  std::string sid_;
  SessionState state_;
  asio::steady_timer wake_;
  asio::steady_timer heartbeat_;
  std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();
  std::map<std::string, std::shared_ptr<Socket>> sockets_;  // by namespace
  std::weak_ptr<WsStream> ws_;
  bool writer_running_ = false;
};

class Engine : public std::enable_shared_from_this<Engine> {
 public:
  Engine(asio::io_context& io, Options options);
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  asio::io_context& io() { return io_; }
  const Options& options() const { return options_; }
  Namespace& of(const std::string& name);
  Namespace* find(const std::string& name);
  std::size_t client_count() const { return sessions_.size(); }

  // The routes. Errors are Engine.IO's 400 {"code":N,"message":...} bodies.
  Awaitable<HandlerResult> handle_get(Request& request, Stream& stream, RouteParams& params);
  Awaitable<HandlerResult> handle_post(Request& request, Stream& stream, RouteParams& params);

  // Closes every session without running handlers; later requests get 503.
  void shutdown();
  // Called by a closing session.
  void forget(const std::string& sid) { sessions_.erase(sid); }
  // 20 random URL-safe characters (like engine.io's base64id), unique among sessions.
  std::string new_id() const;

 private:
  std::shared_ptr<Session> open_session(Transport transport);
  std::string open_packet(const Session& session) const;
  std::shared_ptr<Session> find_session(const std::string& sid) const;
  Awaitable<HandlerResult> poll(Request& request, std::shared_ptr<Session> session);
  Awaitable<HandlerResult> serve_websocket(Request& request, Stream& stream,
                                           std::shared_ptr<Session> session);
  Awaitable<bool> probe(Session& session, WsStream& ws);
  Awaitable<void> read_websocket(std::shared_ptr<Session> session, std::shared_ptr<WsStream> ws);

  asio::io_context& io_;
  Options options_;
  bool shut_down_ = false;
  std::unordered_map<std::string, std::shared_ptr<Session>> sessions_;
  std::map<std::string, std::unique_ptr<Namespace>> namespaces_;
};

}  // namespace haul::api::socketio
