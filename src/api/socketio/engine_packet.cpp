#include "api/socketio/engine_packet.hpp"

namespace haul::api::socketio::engine {

namespace {

bool known_type(char c) { return c >= '0' && c <= '6'; }

}  // namespace

std::string encode_packet(PacketType type, std::string_view data) {
  std::string text;
  text.reserve(1 + data.size());
  text.push_back(static_cast<char>(type));
  text.append(data);
  return text;
}

Result<Packet> decode_packet(std::string_view text) {
  if (text.empty()) return fail(ErrorCode::kProtocol, "empty Engine.IO packet");
  Packet packet;
  if (text.front() == 'b') {
    // Binary data in a text transport; the Socket.IO layer has no use for it
    // (binary events are refused) but it is well-formed Engine.IO.
    packet.type = PacketType::kMessage;
    packet.binary = true;
    packet.data = std::string(text.substr(1));
    return packet;
  }
  if (!known_type(text.front())) {
    return fail(ErrorCode::kProtocol,
                "unknown Engine.IO packet type '" + std::string(1, text.front()) + "'");
  }
  packet.type = static_cast<PacketType>(text.front());
  packet.data = std::string(text.substr(1));
  return packet;
}

std::string encode_payload(const std::vector<SharedPacket>& packets) {
  std::size_t size = 0;
  for (const SharedPacket& packet : packets) size += packet->size() + 1;
  std::string body;
  body.reserve(size);
  for (const SharedPacket& packet : packets) {
    if (!body.empty()) body.push_back(kSeparator);
    body.append(*packet);
  }
  return body;
}

Result<std::vector<Packet>> decode_payload(std::string_view body) {
  std::vector<Packet> packets;
  while (true) {
    const std::size_t end = body.find(kSeparator);
    auto packet = decode_packet(body.substr(0, end));
    if (!packet) return fail(std::move(packet.error()));
    packets.push_back(std::move(*packet));
    if (end == std::string_view::npos) break;
    body.remove_prefix(end + 1);
  }
  return packets;
}

}  // namespace haul::api::socketio::engine
