// The web UI's page and assets over HTTP: GET / (index.html) and
// GET /assets/{path}, public (no token: they hold no data), with a strict
// Content-Security-Policy, ETags (304 on If-None-Match) and gzip when the
// client accepts it. The pieces below are pure, for tests.
#pragma once

#include <string_view>

#include "api/http/http.hpp"
#include "api/web_assets.hpp"

namespace haul::api {

// No inline script or style, nothing from elsewhere, no framing.
inline constexpr std::string_view kWebContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

// Whether an Accept-Encoding value takes gzip ("gzip, br"; not "gzip;q=0").
bool accepts_gzip(std::string_view accept_encoding);
// Whether an If-None-Match value names `etag` ("*", a list, weak forms).
bool etag_matches(std::string_view if_none_match, std::string_view etag);
// 200 with the asset (gzip when accepted) or 304, with the UI's headers.
Response asset_response(const WebAsset& asset, const Request& request);

}  // namespace haul::api
