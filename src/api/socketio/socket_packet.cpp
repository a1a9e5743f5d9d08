#include "api/socketio/socket_packet.hpp"

#include <array>
#include <charconv>

namespace haul::api::socketio {

namespace {

// Names the client library keeps for itself; a client cannot emit them.
constexpr std::array<std::string_view, 6> kReservedEvents = {
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"};

bool is_reserved(std::string_view event) {
  for (std::string_view name : kReservedEvents) {
    if (name == event) return true;
  }
  return false;
}

std::string header(PacketType type, const std::string& nsp) {
  std::string text(1, static_cast<char>('0' + static_cast<int>(type)));
  if (nsp != "/") {
    text += nsp;
    text += ',';
  }
  return text;
}

// Whether `data` has the shape a packet of `type` from a client must have.
std::optional<std::string> shape_error(PacketType type, const std::optional<Json>& data) {
  switch (type) {
    case PacketType::kConnect:
      if (data && !data->is_object()) return "CONNECT data must be an object";
      return std::nullopt;
    case PacketType::kDisconnect:
      if (data) return "DISCONNECT carries no data";
      return std::nullopt;
    case PacketType::kEvent:
      if (!data || !data->is_array() || data->empty())
        return "EVENT data must be a non-empty array";
      if (!(*data)[0].is_string()) return "EVENT name must be a string";
      if (is_reserved((*data)[0].get_ref<const std::string&>())) return "EVENT name is reserved";
      return std::nullopt;
    case PacketType::kAck:
      if (!data || !data->is_array()) return "ACK data must be an array";
      return std::nullopt;
    case PacketType::kConnectError:
      if (data && !data->is_object() && !data->is_string())
        return "CONNECT_ERROR data must be an object or a string";
      return std::nullopt;
    default:
      return "unsupported packet type";
  }
}

}  // namespace

std::string dump_json(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string encode_socket_packet(const SocketPacket& packet) {
  std::string text = header(packet.type, packet.nsp);
  if (packet.ack_id) text += std::to_string(*packet.ack_id);
  if (packet.data) text += dump_json(*packet.data);
  return text;
}

std::string encode_event_message(const std::string& nsp, const std::string& event,
                                 const Json& data) {
  // Built by hand rather than through a Json array so `data` is not copied.
  std::string text = "4" + header(PacketType::kEvent, nsp);
  text += '[';
  text += dump_json(event);
  text += ',';
  text += dump_json(data);
  text += ']';
  return text;
}

std::string encode_ack_message(const std::string& nsp, std::uint64_t ack_id, const Json& args) {
  std::string text = "4" + header(PacketType::kAck, nsp) + std::to_string(ack_id);
  text += args.is_array() ? dump_json(args) : "[" + dump_json(args) + "]";
  return text;
}

bool json_depth_within(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

Result<SocketPacket> decode_socket_packet(std::string_view text) {
  if (text.empty()) return fail(ErrorCode::kProtocol, "empty Socket.IO packet");
  const char first = text.front();
  if (first < '0' || first > '6') {
    return fail(ErrorCode::kProtocol,
                "unknown Socket.IO packet type '" + std::string(1, first) + "'");
  }
  SocketPacket packet;
  packet.type = static_cast<PacketType>(first - '0');
  if (packet.type == PacketType::kBinaryEvent || packet.type == PacketType::kBinaryAck) {
    return fail(ErrorCode::kInvalidArgument, "binary packets are not supported");
  }
  std::size_t pos = 1;
  if (pos < text.size() && text[pos] == '/') {
    const std::size_t comma = text.find(',', pos);
    const std::size_t end = comma == std::string_view::npos ? text.size() : comma;
    packet.nsp = std::string(text.substr(pos, end - pos));
    pos = comma == std::string_view::npos ? text.size() : comma + 1;
  }
  std::size_t digits_end = pos;
  while (digits_end < text.size() && text[digits_end] >= '0' && text[digits_end] <= '9')
    ++digits_end;
  if (digits_end > pos) {
    std::uint64_t id = 0;
    const auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + digits_end, id);
    if (ec != std::errc() || ptr != text.data() + digits_end)
      return fail(ErrorCode::kProtocol, "ack id out of range");
    packet.ack_id = id;
    pos = digits_end;
  }
  if (pos < text.size()) {
    const std::string_view json_text = text.substr(pos);
    if (!json_depth_within(json_text, kMaxJsonDepth))
      return fail(ErrorCode::kProtocol, "JSON nested too deeply");
    Json data = Json::parse(json_text, nullptr, false);
    if (data.is_discarded())
      return fail(ErrorCode::kProtocol, "malformed JSON in Socket.IO packet");
    packet.data = std::move(data);
  }
  if (auto error = shape_error(packet.type, packet.data)) return fail(ErrorCode::kProtocol, *error);
  return packet;
}

}  // namespace haul::api::socketio
