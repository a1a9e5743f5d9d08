// libFuzzer target for what a Socket.IO client sends (src/api/socketio): the
// Engine.IO packets of a WebSocket frame or a polling POST body, the
// Socket.IO packets inside them, and the handshake's query string
// (?EIO=4&transport=polling&sid=...) with the request path the router splits.
//
// Input: one selector byte, then the text. Selector ('0' + n, taken mod 5):
//   0 Engine.IO packet   1 Engine.IO polling payload   2 Socket.IO packet
//   3 query string + check_query, request path        4 all of them
// Invariants: decoding accepts exactly the documented types and
// encode(decode(x)) == x for Engine.IO packets and payloads;
// decode(encode(p)) == p for every Socket.IO packet decoded, whose data has
// the shape its type requires and nests no deeper than kMaxJsonDepth, and a
// two-argument event or an ack re-encodes as encode_event_message /
// encode_ack_message do; a parsed query re-encoded with percent_encode parses
// to the same pairs; check_query accepts only EIO=4 and a known transport.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "api/http/http.hpp"
#include "api/http/router.hpp"
#include "api/socketio/engine_packet.hpp"
#include "api/socketio/handshake.hpp"
#include "api/socketio/socket_packet.hpp"
#include "net/file_name.hpp"
#include "net/url.hpp"

namespace {

namespace sio = haul::api::socketio;
namespace eio = haul::api::socketio::engine;

void check(bool ok, const char* what, std::string_view input) {
  if (ok) return;
  std::fprintf(stderr, "socketio_fuzz: %s (input %zu bytes)\n", what, input.size());
  std::abort();
}

std::string reencode(const eio::Packet& packet) {
  return packet.binary ? "b" + packet.data : eio::encode_packet(packet.type, packet.data);
}

void fuzz_engine_packet(std::string_view text) {
  auto packet = eio::decode_packet(text);
  const bool valid =
      !text.empty() && (text.front() == 'b' || (text.front() >= '0' && text.front() <= '6'));
  check(packet.has_value() == valid, "Engine.IO packet accepted or refused wrongly", text);
  if (!packet) return;
  check(reencode(*packet) == text, "Engine.IO packet does not re-encode to its text", text);
  // And the other way: any type with this data survives the trip.
  const auto type = static_cast<eio::PacketType>('0' + text.size() % 7);
  auto again = eio::decode_packet(eio::encode_packet(type, packet->data));
  check(again && again->type == type && again->data == packet->data && !again->binary,
        "decode(encode(type, data)) differs", text);
}

void fuzz_payload(std::string_view body) {
  auto packets = eio::decode_payload(body);
  if (!packets) return;
  std::size_t separators = 0;
  for (char c : body) separators += c == eio::kSeparator ? 1 : 0;
  check(packets->size() == separators + 1, "payload packet count is not separators + 1", body);
  std::vector<eio::SharedPacket> shared;
  for (const auto& packet : *packets) {
    check(packet.data.find(eio::kSeparator) == std::string::npos, "separator inside a packet",
          body);
    shared.push_back(std::make_shared<const std::string>(reencode(packet)));
  }
  check(eio::encode_payload(shared) == body, "payload does not re-encode to its body", body);
}

// Nesting depth of a parsed value (arrays and objects count one each).
int depth(const sio::Json& value) {
  int deepest = 0;
  if (value.is_array() || value.is_object()) {
    for (const auto& child : value) deepest = std::max(deepest, depth(child));
    return deepest + 1;
  }
  return 0;
}

void fuzz_socket_packet(std::string_view text) {
  auto packet = sio::decode_socket_packet(text);
  if (!packet) return;
  check(
      packet->type != sio::PacketType::kBinaryEvent && packet->type != sio::PacketType::kBinaryAck,
      "binary packet accepted", text);
  check(!packet->nsp.empty() && packet->nsp.front() == '/', "namespace without '/'", text);
  check(packet->nsp.find(',') == std::string::npos, "namespace holds a comma", text);
  if (packet->data)
    check(depth(*packet->data) <= sio::kMaxJsonDepth, "JSON deeper than allowed", text);
  switch (packet->type) {
    case sio::PacketType::kEvent:
      check(packet->data && packet->data->is_array() && !packet->data->empty() &&
                (*packet->data)[0].is_string(),
            "EVENT without a name", text);
      break;
    case sio::PacketType::kAck:
      check(packet->data && packet->data->is_array(), "ACK without an array", text);
      break;
    case sio::PacketType::kDisconnect:
      check(!packet->data, "DISCONNECT with data", text);
      break;
    default:
      break;
  }

  const std::string encoded = sio::encode_socket_packet(*packet);
  check(!packet->data || sio::json_depth_within(sio::dump_json(*packet->data), sio::kMaxJsonDepth),
        "depth check refuses what it accepted", text);
  auto again = sio::decode_socket_packet(encoded);
  check(again.has_value(), "re-encoded packet is refused", text);
  check(again->type == packet->type && again->nsp == packet->nsp &&
            again->ack_id == packet->ack_id && again->data == packet->data,
        "decode(encode(packet)) differs", text);
  check(sio::encode_socket_packet(*again) == encoded, "encoding is not stable", text);

  if (packet->type == sio::PacketType::kEvent && packet->data->size() == 2 && !packet->ack_id) {
    const std::string message = sio::encode_event_message(
        packet->nsp, (*packet->data)[0].get<std::string>(), (*packet->data)[1]);
    check(message == "4" + encoded, "encode_event_message differs", text);
  }
  if (packet->type == sio::PacketType::kAck && packet->ack_id) {
    const std::string message =
        sio::encode_ack_message(packet->nsp, *packet->ack_id, *packet->data);
    check(message == "4" + encoded, "encode_ack_message differs", text);
  }
}

void fuzz_query(std::string_view text) {
  const std::size_t question = text.find('?');
  const std::string_view query =
      question == std::string_view::npos ? text : text.substr(question + 1);
  haul::api::RouteParams params;
  params.query = haul::api::parse_query(query);
  std::size_t parts = 1;
  for (char c : query) parts += c == '&' ? 1 : 0;
  check(params.query.size() <= parts, "more pairs than parts", text);

  std::string rebuilt;
  for (const auto& [key, value] : params.query) {
    if (!rebuilt.empty()) rebuilt += '&';
    rebuilt += haul::net::percent_encode(key) + "=" + haul::net::percent_encode(value);
  }
  auto reparsed = haul::api::parse_query(rebuilt);
  check(reparsed == params.query, "re-encoded query parses differently", text);

  for (const bool post : {false, true}) {
    const auto error = sio::check_query(params, post);
    if (error) continue;
    const auto transport = params.query_value("transport");
    check(transport && (*transport == "polling" || *transport == "websocket"),
          "handshake accepted without a known transport", text);
    check(params.query_value("EIO") == "4", "handshake accepted without EIO=4", text);
    check(!post || (params.query_value("sid") && *transport == "polling"),
          "POST accepted without a sid or on a WebSocket", text);
  }

  const std::string_view path = text.substr(0, question);
  for (const std::string& segment : haul::api::split_path(path)) {
    check(!segment.empty(), "empty path segment", text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (static_cast<std::uint8_t>(data[0] - '0') % 5) {
    case 0:
      fuzz_engine_packet(text);
      break;
    case 1:
      fuzz_payload(text);
      break;
    case 2:
      fuzz_socket_packet(text);
      break;
    case 3:
      fuzz_query(text);
      break;
    default:
      fuzz_engine_packet(text);
      fuzz_payload(text);
      fuzz_socket_packet(text);
      fuzz_query(text);
      break;
  }
  return 0;
}
