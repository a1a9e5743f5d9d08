// The Engine.IO handshake's query check (?EIO=4&transport=polling&sid=...)
// and the error codes of Engine.IO's 400 answers. Pure: no sockets and no
// coroutines, so the fuzz target builds it with any compiler.
#pragma once

#include <optional>

#include "api/http/http.hpp"

namespace haul::api::socketio {

// Engine.IO's error codes for 400 answers.
enum class EngineError {
  kUnknownTransport = 0,
  kUnknownSid = 1,
  kBadHandshakeMethod = 2,
  kBadRequest = 3,
  kForbidden = 4,
  kUnsupportedProtocolVersion = 5
};

// Checks EIO=4 and a known transport ("polling" or "websocket"), and for a
// POST (`post`) a sid and the polling transport. Returns the error to answer,
// if any. Any thread.
std::optional<EngineError> check_query(const RouteParams& params, bool post);

}  // namespace haul::api::socketio
