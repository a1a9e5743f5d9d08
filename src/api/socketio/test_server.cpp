// haul_socketio_test_server: the Socket.IO server with scripted behaviour for
// the stock socket.io-client tests in tests/node. Prints "PORT <n>" once it
// listens on 127.0.0.1, then serves until SIGINT/SIGTERM (or SIGKILL).
//   /downloads  every socket gets "progress" {"n":1..3}, 100 ms apart, after connecting
//   /resources  "subscribe_install" {job_id}: join room job_id, "subscribed" {job_id},
//               then the room gets "resource_install_progress" and "resource_install_complete"
//   /           "echo" acks its arguments back; "stats" acks {"clients": n};
//               "broadcast" N: /downloads gets "tick" {"i":0..N-1}, acks {"sockets": n}
// Options: --ping-interval-ms N --ping-timeout-ms N
//          --shutdown-after-ms N  destroy the socketio::Server N ms after start (the
//                                 HTTP server keeps running; its routes then answer 503)
#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "api/http/coroutines.hpp"
#include "api/http/http_server.hpp"
#include "api/socketio/server.hpp"

namespace {

using namespace haul::api;
using socketio::Json;

Awaitable<void> sleep_for(std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(delay);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

Awaitable<void> send_progress(std::weak_ptr<socketio::Socket> weak) {
  for (int n = 1; n <= 3; ++n) {
    co_await sleep_for(std::chrono::milliseconds(100));
    auto socket = weak.lock();
    if (!socket) co_return;
    socket->emit("progress", Json{{"n", n}});
  }
}

Awaitable<void> run_install(socketio::Namespace& resources, std::string job_id) {
  co_await sleep_for(std::chrono::milliseconds(100));
  resources.emit_to_room(job_id, "resource_install_progress",
                         Json{{"type", "progress"}, {"job_id", job_id}, {"percent", 50}});
  co_await sleep_for(std::chrono::milliseconds(50));
  resources.emit_to_room(job_id, "resource_install_complete",
                         Json{{"success", true}, {"job_id", job_id}});
}

std::optional<long> flag_value(int argc, char** argv, std::string_view name) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (name == argv[i]) return std::strtol(argv[i + 1], nullptr, 10);
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(std::getenv("HAUL_DEBUG") != nullptr ? spdlog::level::debug
                                                         : spdlog::level::warn);
  socketio::Options options;
  if (auto ms = flag_value(argc, argv, "--ping-interval-ms"))
    options.ping_interval = std::chrono::milliseconds(*ms);
  if (auto ms = flag_value(argc, argv, "--ping-timeout-ms"))
    options.ping_timeout = std::chrono::milliseconds(*ms);

  asio::io_context io;
  Router router;
  auto server_owner = std::make_unique<socketio::Server>(io, options);
  socketio::Server& sio = *server_owner;
  sio.install(router);

  sio.of("/downloads").on_connect([&io](socketio::Socket& socket) {
    asio::co_spawn(io, send_progress(socket.weak_from_this()), asio::detached);
  });

  socketio::Namespace& resources = sio.of("/resources");
  resources.on("subscribe_install", [&io, &resources](socketio::Socket& socket, const Json& args,
                                                      const socketio::Ack& ack) {
    if (args.empty() || !args[0].is_object() || !args[0].contains("job_id") ||
        !args[0]["job_id"].is_string()) {
      if (ack) ack(Json{{"error", R"(expected {"job_id": "..."})"}});
      return;
    }
    const std::string job_id = args[0]["job_id"].get<std::string>();
    socket.join(job_id);
    socket.emit("subscribed", Json{{"job_id", job_id}});
    if (ack) ack(Json{{"ok", true}});
    asio::co_spawn(io, run_install(resources, job_id), asio::detached);
  });

  socketio::Namespace& main_nsp = sio.of("/");
  main_nsp.on("echo", [](socketio::Socket&, const Json& args, const socketio::Ack& ack) {
    if (ack) ack(args);
  });
  main_nsp.on("broadcast", [&sio](socketio::Socket&, const Json& args, const socketio::Ack& ack) {
    const int count = !args.empty() && args[0].is_number_integer() ? args[0].get<int>() : 1;
    socketio::Namespace& downloads = sio.of("/downloads");
    for (int i = 0; i < count; ++i) downloads.emit("tick", Json{{"i", i}});
    if (ack) ack(Json{{"sockets", downloads.socket_count()}});
  });
  main_nsp.on("stats", [&sio](socketio::Socket&, const Json&, const socketio::Ack& ack) {
    if (ack) ack(Json{{"clients", sio.client_count()}});
  });

  HttpServer server(io, router, make_policy("", "127.0.0.1", 0));
  auto endpoint = server.listen("127.0.0.1", 0);
  if (!endpoint) {
    std::fprintf(stderr, "%s\n", endpoint.error().message.c_str());
    return 1;
  }
  std::printf("PORT %u\n", static_cast<unsigned>(endpoint->port()));
  std::fflush(stdout);

  asio::steady_timer shutdown_timer(io);
  if (auto ms = flag_value(argc, argv, "--shutdown-after-ms")) {
    shutdown_timer.expires_after(std::chrono::milliseconds(*ms));
    shutdown_timer.async_wait([&server_owner](const boost::system::error_code& ec) {
      if (!ec) server_owner.reset();
    });
  }

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    server.stop();
    io.stop();
  });
  io.run();
  return 0;
}
