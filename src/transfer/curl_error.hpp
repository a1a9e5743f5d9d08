// The one place where libcurl's CURLcode becomes a haul Error.
#pragma once

#include <curl/curl.h>

#include <string_view>

#include "base/error.hpp"

namespace haul::transfer {

// kUnavailable for failures worth retrying (connect, reset, timeout, short
// body), kPermissionDenied for TLS verification, kInternal otherwise. The
// message prefers curl's detailed error buffer.
Error error_from_curl(CURLcode code, std::string_view error_buffer);

}  // namespace haul::transfer
