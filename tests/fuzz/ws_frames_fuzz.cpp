// libFuzzer target for WebSocket frames as the daemon reads them: a server
// stream set up like /api/v1/ws (src/api/live_routes.cpp: 64 KiB messages)
// or Socket.IO's transport (src/api/socketio/engine.cpp: 1 MB), reading
// whatever a client sends after the handshake: data frames, fragments,
// control frames (ping, pong, close), masking, lengths, reserved bits. The
// frame parser is Beast's; this holds it to the limits the daemon sets.
//
// Input: one selector byte (even: the WebSocket channel's limit, odd:
// Socket.IO's), then the bytes on the wire.
// Invariants: no message longer than the limit is delivered, every read ends
// (the input runs out or an error closes the stream), and nothing crashes.
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "ws_frames_fuzz: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t limit = (data[0] % 2 == 0) ? std::size_t{64} * 1024 : std::size_t{1000000};
  boost::asio::io_context io;
  beast::test::stream client(io);
  beast::test::stream server_side(io);
  client.connect(server_side);
  websocket::stream<beast::test::stream> ws(std::move(server_side));
  ws.read_message_max(limit);

  http::request<http::string_body> upgrade{http::verb::get, "/api/v1/ws", 11};
  upgrade.set(http::field::host, "127.0.0.1:5000");
  upgrade.set(http::field::upgrade, "websocket");
  upgrade.set(http::field::connection, "upgrade");
  upgrade.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  upgrade.set(http::field::sec_websocket_version, "13");
  beast::error_code ec;
  ws.accept(upgrade, ec);
  check(!ec, "the handshake failed");

  // The bytes the client sent, then its end: a read past them ends with EOF.
  ws.next_layer().append(beast::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  client.close();
  for (int messages = 0; messages < 100000; ++messages) {
    beast::flat_buffer buffer;
    ws.read(buffer, ec);
    if (ec) break;
    check(buffer.size() <= limit, "a message longer than the limit was delivered");
  }
  check(ec.failed(), "reading never ended");
  return 0;
}
