#include "api/http/http_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "api/http/coroutines.hpp"

namespace haul::api {

HttpServer::HttpServer(asio::io_context& io, const Router& router, SecurityPolicy policy,
                       ServerOptions options)
    : io_(io), router_(router), policy_(std::move(policy)), options_(options) {}

HttpServer::~HttpServer() = default;

Result<tcp::endpoint> HttpServer::listen(const std::string& host, std::uint16_t port) {
  const std::string where = host + ":" + std::to_string(port);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec)
    return fail(ErrorCode::kInvalidArgument, "cannot listen on " + where + ": not an IP address");
  auto acceptor = std::make_unique<tcp::acceptor>(io_);
  const tcp::endpoint endpoint(address, port);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ErrorCode::kUnavailable, "cannot listen on " + where + ": " + ec.message());
  acceptor_ = std::move(acceptor);
  policy_.port = acceptor_->local_endpoint().port();
  asio::co_spawn(io_, accept_loop(), asio::detached);
  return acceptor_->local_endpoint();
}

void HttpServer::stop() {
  if (acceptor_) {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
  }
}

Awaitable<void> HttpServer::accept_loop() {
  while (acceptor_ && acceptor_->is_open()) {
    try {
      tcp::socket socket = co_await acceptor_->async_accept(asio::use_awaitable);
      socket.set_option(tcp::no_delay(true));
      asio::co_spawn(io_, session(std::move(socket)), asio::detached);
    } catch (const boost::system::system_error& e) {
      if (e.code() == asio::error::operation_aborted) co_return;
      spdlog::warn("accept failed: {}", e.what());
    }
  }
}

Awaitable<void> HttpServer::session(tcp::socket socket) {
  Stream stream(std::move(socket));
  beast::flat_buffer buffer;
  try {
    while (true) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(options_.body_limit);
      stream.expires_after(options_.idle_timeout);
      boost::system::error_code ec;
      co_await http::async_read(stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::end_of_stream || ec == beast::error::timeout) break;
      if (ec == http::error::body_limit) {
        Request& partial = parser.get();
        auto response = error_response(
            http::status::payload_too_large, "too_large",
            "request body over " + std::to_string(options_.body_limit) + " bytes", partial);
        response.keep_alive(false);
        co_await http::async_write(stream, response, asio::use_awaitable);
        break;
      }
      if (ec) {
        Request empty;
        auto response = error_response(http::status::bad_request, "bad_request",
                                       "malformed HTTP request: " + ec.message(), empty);
        response.keep_alive(false);
        co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
        break;
      }
      Request request = parser.release();
      stream.expires_never();
      auto response = co_await dispatch(request, stream);
      if (!response) co_return;  // the handler owns the connection now
      const bool keep_alive = response->keep_alive();
      co_await http::async_write(stream, *response, asio::use_awaitable);
      if (!keep_alive) break;
    }
  } catch (const boost::system::system_error& e) {
    spdlog::debug("connection ended: {}", e.what());
    co_return;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

Awaitable<HandlerResult> HttpServer::dispatch(Request& request, Stream& stream) {
  const std::string_view target(request.target().data(), request.target().size());
  const std::size_t question = target.find('?');
  RouteParams params;
  if (question != std::string_view::npos) params.query = parse_query(target.substr(question + 1));

  auto match = router_.match(request.method(), target.substr(0, question));
  RequestFacts facts;
  facts.host = header(request, http::field::host).value_or("");
  facts.origin = header(request, http::field::origin);
  facts.authorization = header(request, http::field::authorization);
  const auto query_token = params.query_value("access_token");
  if (query_token) facts.query_token = *query_token;
  facts.public_route = match.handler != nullptr && match.public_access;
  if (auto rejection = check_request(policy_, facts)) {
    spdlog::warn("refused {} {}: {}", std::string(request.method_string()),
                 target.substr(0, question), rejection->message);
    auto response = error_response(static_cast<http::status>(rejection->status), rejection->code,
                                   rejection->message, request);
    if (rejection->status == 401) response.set(http::field::www_authenticate, "Bearer");
    co_return response;
  }

  if (!match.handler) {
    if (match.path_known) {
      co_return error_response(http::status::method_not_allowed, "method_not_allowed",
                               std::string(request.method_string()) + " is not allowed here",
                               request);
    }
    // "no_route", not "not_found": a client (and the OpenAPI test) can tell a
    // path this daemon does not serve from a job or instance that does not exist.
    co_return error_response(http::status::not_found, "no_route",
                             "no route for " + std::string(target.substr(0, question)), request);
  }
  params.path = std::move(match.params);
  try {
    co_return co_await (*match.handler)(request, stream, params);
  } catch (const boost::system::system_error&) {
    throw;  // the connection failed: the session ends
  } catch (const std::exception& e) {
    spdlog::error("{} {} failed: {}", std::string(request.method_string()),
                  target.substr(0, question), e.what());
    co_return error_response(http::status::internal_server_error, "internal", "internal error",
                             request);
  }
}

}  // namespace haul::api
