// The OpenAPI 3.1 document of the daemon's HTTP API: src/api/openapi.json,
// compiled into the binary (cmake/embed_text.cmake), so serving it reads no
// file. GET /api/v1/openapi.json answers with it.
#pragma once

#include <string_view>

namespace haul::api {

// The document's JSON text, byte for byte as checked in. Any thread.
std::string_view openapi_json();

}  // namespace haul::api
