// The daemon's HTTP/1.1 server (Boost.Beast, C++20 coroutines): accepts,
// reads requests with a body limit, applies the security policy, routes, and
// hands WebSocket/SSE requests their stream. Control thread only: it runs on
// the io_context given to it, like everything that touches job state.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/http/http.hpp"
#include "api/http/router.hpp"
#include "api/http/security.hpp"
#include "base/error.hpp"

namespace haul::api {

struct ServerOptions {
  std::size_t body_limit = 1u << 20;  // bigger bodies get 413
  std::chrono::seconds idle_timeout{60};
};

class HttpServer {
 public:
  HttpServer(asio::io_context& io, const Router& router, SecurityPolicy policy,
             ServerOptions options = {});
  ~HttpServer();

  // Binds and starts accepting. Errors: kUnavailable "cannot listen on H:P: why".
  Result<tcp::endpoint> listen(const std::string& host, std::uint16_t port);
  // Stops accepting; open connections finish their current request.
  void stop();

  const SecurityPolicy& policy() const { return policy_; }
  void set_policy(SecurityPolicy policy) { policy_ = std::move(policy); }

 private:
  Awaitable<void> accept_loop();
  Awaitable<void> session(tcp::socket socket);
  Awaitable<HandlerResult> dispatch(Request& request, Stream& stream);

  asio::io_context& io_;
  const Router& router_;
  SecurityPolicy policy_;
  ServerOptions options_;
  std::unique_ptr<tcp::acceptor> acceptor_;
};

}  // namespace haul::api
