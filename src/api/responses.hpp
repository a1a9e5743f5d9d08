// Answers shared by the route files: an Error as its HTTP status and JSON
// body, and JSON text rendered the same way everywhere.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "api/http/http.hpp"
#include "base/error.hpp"

namespace haul::api {

// 404 not found, 409 conflict, 422 bad input or a refused destination, 500
// otherwise; body {"error": {"code", "message"}}.
http::status status_for(ErrorCode code);
Response from_error(const Error& error, const Request& request);

// 204 No Content, keeping the connection as the request asked.
Response no_content(const Request& request);

// Compact JSON; invalid UTF-8 in strings becomes U+FFFD instead of throwing.
std::string dump(const nlohmann::json& value);

}  // namespace haul::api
