#include "transfer/curl_error.hpp"

#include <string>

namespace haul::transfer {

Error error_from_curl(CURLcode code, std::string_view error_buffer) {
  std::string message = error_buffer.empty() ? curl_easy_strerror(code) : std::string(error_buffer);
  ErrorCode kind = ErrorCode::kInternal;
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_WEIRD_SERVER_REPLY:
      kind = ErrorCode::kUnavailable;
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
      kind = ErrorCode::kPermissionDenied;
      break;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      kind = ErrorCode::kInvalidArgument;
      break;
    default:
      break;
  }
  return Error{kind, std::move(message)};
}

}  // namespace haul::transfer
