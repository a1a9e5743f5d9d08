// Answers shared by the route files: an Error as its HTTP status and JSON
// body, and JSON text rendered the same way everywhere.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "api/http/http.hpp"
#include "base/error.hpp"

namespace haul::api {

// 400 a body that is not JSON (kProtocol), 404 not found, 409 conflict, 422
// well-formed but invalid input or a refused destination, 500 otherwise;
// body {"error": {"code", "message"}} ("bad_json" for a body that is not JSON).
http::status status_for(ErrorCode code);
Response from_error(const Error& error, const Request& request);

// A JSON request body. Errors: kProtocol "the body is not valid JSON: ..."
// (answered 400 bad_json), kInvalidArgument when `object_only` and it is
// not an object (422).
Result<nlohmann::json> parse_body(const Request& request, bool object_only);

// 204 No Content, keeping the connection as the request asked.
Response no_content(const Request& request);

// Compact JSON; invalid UTF-8 in strings becomes U+FFFD instead of throwing.
std::string dump(const nlohmann::json& value);

}  // namespace haul::api
