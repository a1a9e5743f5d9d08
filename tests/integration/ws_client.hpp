// A small synchronous WebSocket client (Beast) for the daemon's /api/v1/ws,
// for tests that read the download channel. Only the tests that need it
// include it: Beast is heavy to compile.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

namespace haul::testing {

struct HostPort {
  std::string host;
  std::string port;
};

inline HostPort host_port(const std::string& url) {
  std::smatch match;
  std::regex_search(url, match, std::regex("http://([^:/]+):(\\d+)"));
  return {match[1], match[2]};
}

// A synchronous WebSocket client on the daemon's /api/v1/ws.
class WsClient {
 public:
  explicit WsClient(const std::string& url) : ws_(io_) {
    const HostPort hp = host_port(url);
    boost::asio::ip::tcp::resolver resolver(io_);
    boost::asio::connect(ws_.next_layer(), resolver.resolve(hp.host, hp.port));
    ws_.handshake(hp.host + ":" + hp.port, "/api/v1/ws");
  }
  void send(const std::string& text) { ws_.write(boost::asio::buffer(text)); }
  nlohmann::json receive() {
    boost::beast::flat_buffer buffer;
    ws_.read(buffer);
    return nlohmann::json::parse(boost::beast::buffers_to_string(buffer.data()));
  }
  // Reads messages until `done` says so or `limit` messages arrived.
  std::vector<nlohmann::json> receive_until(const std::function<bool(const nlohmann::json&)>& done,
                                            int limit = 2000) {
    std::vector<nlohmann::json> messages;
    while (limit-- > 0) {
      messages.push_back(receive());
      if (done(messages.back())) break;
    }
    return messages;
  }

 private:
  boost::asio::io_context io_;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
};

}  // namespace haul::testing
