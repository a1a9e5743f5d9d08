// A Socket.IO v4 server (Engine.IO protocol v4, Socket.IO protocol v5) on the
// daemon's HttpServer: HTTP long-polling with upgrade to WebSocket, the
// server-initiated ping/pong heartbeat, namespaces, rooms and acks. The
// stock `socket.io-client` 4.x connects with default options, e.g.
// io("http://127.0.0.1:PORT/downloads"). JSON only: binary packets are refused.
//
// Threading: everything here (handlers, emit, join, Server methods) runs on
// the one io_context thread the HttpServer runs on (the daemon's control
// thread), so there are no locks. From another thread, asio::post() to it.
// Handlers must not block: they run between network reads and writes.
//
// Slow clients: each client's queue holds at most Options::max_queued_packets
// packets; a client that falls further behind is disconnected (it reconnects
// and starts from fresh state), never left with silent gaps.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "api/http/http.hpp"
#include "api/http/router.hpp"

namespace haul::api::socketio {

using Json = nlohmann::json;

struct Options {
  std::chrono::milliseconds ping_interval{
      25000};  // the server sends "2" this long after the last pong
  std::chrono::milliseconds ping_timeout{
      20000};                             // no "3" this long after a ping: the client is gone
  std::size_t max_payload = 1000000;      // bytes per POST body or WebSocket message
  std::size_t max_queued_packets = 1024;  // per client; more means a slow client, disconnected
  std::chrono::milliseconds connect_timeout{45000};  // a client that joins no namespace is closed
  std::chrono::milliseconds upgrade_timeout{
      10000};  // a WebSocket probe that never sends "5" is closed
};

class Engine;
class Session;
class Namespace;

// One client connected to one namespace. Handlers receive it by reference;
// to use it later (a timer, a job), keep `weak_from_this()`: after the
// client disconnects, emit/join/leave on it do nothing.
class Socket : public std::enable_shared_from_this<Socket> {
 public:
  // Only sessions create sockets.
  class Key {
    friend class Session;
    Key() = default;
  };
  Socket(Key, Namespace& nsp, Session& session, std::string id, Json auth);
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // The Socket.IO sid of this namespace connection (not the Engine.IO sid).
  const std::string& id() const { return id_; }
  const std::string& nsp() const;
  // The CONNECT packet's auth payload ({} when the client sent none).
  const Json& auth() const { return auth_; }
  bool connected() const { return session_ != nullptr; }

  void join(const std::string& room);
  void leave(const std::string& room);
  const std::unordered_set<std::string>& rooms() const { return rooms_; }

  // Sends event(data) to this client only (data is one argument).
  void emit(const std::string& event, const Json& data);
  // Ends this namespace connection from the server side (the client does
  // not reconnect by itself: reason "io server disconnect").
  void disconnect();

 private:
  friend class Session;
  friend class Namespace;
  // Called by the session when the connection ends: leaves every room and
  // the namespace, then runs the namespace's disconnect handler.
  void detach(const std::string& reason);

  Namespace* nsp_;
  Session* session_;  // null once disconnected
  std::string id_;
  Json auth_;
  std::unordered_set<std::string> rooms_;
};

using ConnectHandler = std::function<void(Socket&)>;
using DisconnectHandler = std::function<void(Socket&, const std::string& reason)>;
// args: the event's arguments (a JSON array without the event name).
// ack: empty unless the client asked for an ack; call it at most once (later
// calls do nothing). Its argument is the ack's argument list when it is an
// array, else the single argument: ack({{"ok", true}}) or ack(args).
using Ack = std::function<void(Json)>;
using EventHandler = std::function<void(Socket&, const Json& args, Ack ack)>;

class Namespace {
 public:
  Namespace(const Namespace&) = delete;
  Namespace& operator=(const Namespace&) = delete;

  const std::string& name() const { return name_; }
  // Runs after the client got its CONNECT reply, so events emitted here
  // arrive after "connect" on the client.
  void on_connect(ConnectHandler handler) { on_connect_ = std::move(handler); }
  // reason: "client namespace disconnect", "server namespace disconnect",
  // "transport close", "transport error", "ping timeout", "slow client",
  // "parse error", "server shutting down"...
  void on_disconnect(DisconnectHandler handler) { on_disconnect_ = std::move(handler); }
  // One handler per event name; a second call replaces the first.
  void on(std::string event, EventHandler handler);

  // To every socket of the namespace / of one room. The packet is encoded
  // once and shared by every recipient's queue.
  void emit(const std::string& event, const Json& data);
  void emit_to_room(const std::string& room, const std::string& event, const Json& data);

  std::size_t socket_count() const { return sockets_.size(); }
  std::size_t room_size(const std::string& room) const;

 private:
  friend class Engine;
  friend class Session;
  friend class Socket;
  explicit Namespace(std::string name) : name_(std::move(name)) {}

  void dispatch_event(Socket& socket, Json data, std::optional<std::uint64_t> ack_id);
  void notify_connect(Socket& socket);
  void clear_handlers();

  std::string name_;
  ConnectHandler on_connect_;
  DisconnectHandler on_disconnect_;
  std::unordered_map<std::string, EventHandler> handlers_;
  std::unordered_map<std::string, Socket*> sockets_;  // by socket id
  std::unordered_map<std::string, std::unordered_set<Socket*>> rooms_;
};

class Server {
 public:
  // Serves nothing until install(); "/" exists from the start.
  Server(asio::io_context& io, Options options = {});
  // Closes every session (without running disconnect handlers); requests
  // that still reach the installed routes get 503.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The namespace, created on first use ("downloads" and "/downloads" are
  // the same). Clients asking for a namespace nobody created get
  // CONNECT_ERROR {"message":"Invalid namespace"}. The reference stays valid
  // as long as the router `install()` was given.
  Namespace& of(const std::string& name);
  // Registers GET and POST "/socket.io/" (polling; a GET with
  // "Upgrade: websocket" takes the stream over). The routes keep the
  // server's state alive, so the router may outlive this object.
  void install(Router& router);
  // Engine.IO sessions (clients), whatever their namespaces.
  std::size_t client_count() const;
  const Options& options() const;

 private:
  std::shared_ptr<Engine> engine_;
};

}  // namespace haul::api::socketio
