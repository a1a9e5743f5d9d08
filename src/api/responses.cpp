#include "api/responses.hpp"

namespace haul::api {

http::status status_for(ErrorCode code) {
  switch (code) {
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
  return error_response(status_for(error.code), error_code_name(error.code), error.message,
                        request);
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
