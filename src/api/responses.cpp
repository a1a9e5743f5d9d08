#include "api/responses.hpp"

namespace haul::api {

http::status status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kProtocol:
      return http::status::bad_request;
    case ErrorCode::kNotFound:
      return http::status::not_found;
    case ErrorCode::kConflict:
      return http::status::conflict;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kPermissionDenied:
      return http::status::unprocessable_entity;
    default:
      return http::status::internal_server_error;
  }
}

Response from_error(const Error& error, const Request& request) {
  const std::string_view code =
      error.code == ErrorCode::kProtocol ? "bad_json" : error_code_name(error.code);
  return error_response(status_for(error.code), code, error.message, request);
}

Result<nlohmann::json> parse_body(const Request& request, bool object_only) {
  try {
    nlohmann::json body = nlohmann::json::parse(request.body());
    if (object_only && !body.is_object())
      return fail(ErrorCode::kInvalidArgument, "the body must be a JSON object");
    return body;
  } catch (const nlohmann::json::parse_error& e) {
    return fail(ErrorCode::kProtocol, std::string("the body is not valid JSON: ") + e.what());
  }
}

Response no_content(const Request& request) {
  Response response{http::status::no_content, request.version()};
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  return response;
}

std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace haul::api
