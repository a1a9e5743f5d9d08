// Beast and Asio names the API layer shares. Included only by src/api and
// src/daemon sources (Beast is heavy; nothing below them sees it).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http/coroutines.hpp"

namespace haul::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
using Stream = beast::tcp_stream;

template <class T>
using Awaitable = asio::awaitable<T>;

// Path parameters of a matched route ("/api/v1/jobs/{id}" -> {"<id>"}) and
// the decoded query string.
struct RouteParams {
  std::vector<std::string> path;
  std::vector<std::pair<std::string, std::string>> query;

  std::optional<std::string> query_value(std::string_view name) const;
};

// A handler answers with a Response, or returns nullopt after taking the
// stream over (WebSocket upgrade, SSE): the connection is then its own.
using HandlerResult = std::optional<Response>;

// Builds a JSON response with the given status and body.
Response json_response(http::status status, std::string body, const Request& request);
// {"error": {"code": ..., "message": ...}}
Response error_response(http::status status, std::string_view code, std::string_view message,
                        const Request& request);

// A header's value; nullopt when the request has none.
std::optional<std::string_view> header(const Request& request, http::field field);

// Splits "a=1&b=x%20y" into decoded pairs ('+' means space).
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

}  // namespace haul::api
