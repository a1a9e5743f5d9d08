#include "api/socketio/handshake.hpp"

namespace haul::api::socketio {

std::optional<EngineError> check_query(const RouteParams& params, bool post) {
  const auto transport = params.query_value("transport");
  if (!transport || (*transport != "polling" && *transport != "websocket"))
    return EngineError::kUnknownTransport;
  const auto eio = params.query_value("EIO");
  if (!eio || *eio != "4") return EngineError::kUnsupportedProtocolVersion;
  if (post && !params.query_value("sid")) return EngineError::kBadHandshakeMethod;
  if (post && *transport != "polling") return EngineError::kBadRequest;
  return std::nullopt;
}

}  // namespace haul::api::socketio
