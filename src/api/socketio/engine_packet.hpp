// Engine.IO protocol v4 packets: the one-character type prefix ("4hello"),
// and the HTTP long-polling payload that joins packets with '\x1e'.
// Pure functions with no sockets; the transports in engine.cpp use them.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace haul::api::socketio::engine {

enum class PacketType : char {
  kOpen = '0',
  kClose = '1',
  kPing = '2',
  kPong = '3',
  kMessage = '4',
  kUpgrade = '5',
  kNoop = '6',
};

// Separates packets in a polling body (ASCII record separator). JSON text
// escapes it, so it never appears inside a packet we send or accept.
inline constexpr char kSeparator = '\x1e';

struct Packet {
  PacketType type = PacketType::kNoop;
  std::string data;     // text after the type; base64 when `binary`
  bool binary = false;  // "b<base64>" in a polling body (a binary message)
};

// An encoded packet ("42[...]") shared by every session it is queued on, so
// an event for 1,000 clients is encoded once.
using SharedPacket = std::shared_ptr<const std::string>;

// "<type><data>".
std::string encode_packet(PacketType type, std::string_view data = {});
inline SharedPacket make_shared_packet(PacketType type, std::string_view data = {}) {
  return std::make_shared<const std::string>(encode_packet(type, data));
}

// One packet of a WebSocket frame or of a polling body.
// Errors: kProtocol for an empty text or an unknown type.
Result<Packet> decode_packet(std::string_view text);

// The body of a polling GET: encoded packets joined with kSeparator.
std::string encode_payload(const std::vector<SharedPacket>& packets);

// The body of a polling POST. Errors: kProtocol when any packet is malformed
// (the whole body is refused, like the reference server does).
Result<std::vector<Packet>> decode_payload(std::string_view body);

}  // namespace haul::api::socketio::engine
