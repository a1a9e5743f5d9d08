// Socket.IO protocol v5 packets, carried in Engine.IO "message" packets:
//   <type>[<namespace>,][<ack id>][<JSON data>]     e.g. 2/downloads,7["progress",{"n":1}]
// Pure functions with no sockets. Binary packets (types 5 and 6) are refused:
// haul sends and accepts JSON only.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace haul::api::socketio {

using Json = nlohmann::json;

enum class PacketType : int {
  kConnect = 0,
  kDisconnect = 1,
  kEvent = 2,
  kAck = 3,
  kConnectError = 4,
  kBinaryEvent = 5,
  kBinaryAck = 6,
};

struct SocketPacket {
  PacketType type = PacketType::kEvent;
  std::string nsp = "/";
  std::optional<std::uint64_t> ack_id;
  std::optional<Json> data;  // absent: no JSON after the header
};

// Nesting deeper than this is refused before parsing: echoing such a value
// back would recurse once per level when it is dumped.
inline constexpr int kMaxJsonDepth = 64;

// The Socket.IO text of a packet (without the Engine.IO "4" prefix).
// Strings that are not valid UTF-8 are replaced, never thrown.
std::string encode_socket_packet(const SocketPacket& packet);

// The Engine.IO message of an event with one argument: 42[/nsp,]["event",data].
std::string encode_event_message(const std::string& nsp, const std::string& event,
                                 const Json& data);

// The Engine.IO message answering a client's ack request: 43[/nsp,]<id>[args...].
// `args` is the argument list when it is an array, else the single argument.
std::string encode_ack_message(const std::string& nsp, std::uint64_t ack_id, const Json& args);

// Parses and checks a packet from a client: known type, namespace starting
// with '/', decimal ack id, JSON data of the shape the type requires (CONNECT
// an object or nothing, DISCONNECT nothing, EVENT a non-empty array starting
// with a string event name that is not reserved, ACK an array, CONNECT_ERROR
// an object or string).
// Errors: kProtocol with a one-line reason; kInvalidArgument for binary
// packets ("binary packets are not supported").
Result<SocketPacket> decode_socket_packet(std::string_view text);

// JSON with nesting no deeper than `max_depth` (strings are skipped).
bool json_depth_within(std::string_view text, int max_depth);

// Text for JSON dumps that never throws on invalid UTF-8.
std::string dump_json(const Json& value);

}  // namespace haul::api::socketio
