#include "api/web_routes.hpp"

#include "api/api.hpp"
#include "base/text.hpp"

namespace haul::api {

namespace {

// Calls `visit` with each trimmed element of a comma-separated header value.
template <class Visit>
bool any_element(std::string_view list, Visit visit) {
  while (true) {
    const std::size_t comma = list.find(',');
    if (visit(trim(list.substr(0, comma)))) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

Awaitable<HandlerResult> serve(const WebAssets* assets, std::string path, Request& request) {
  auto asset = assets == nullptr ? nullptr : assets->find(path);
  if (!asset) {
    co_return error_response(http::status::not_found, "not_found",
                             "the web UI has no file '" + std::string(path) + "'", request);
  }
  co_return asset_response(*asset, request);
}

}  // namespace

bool accepts_gzip(std::string_view accept_encoding) {
  return any_element(accept_encoding, [](std::string_view coding) {
    const std::size_t semicolon = coding.find(';');
    if (trim(coding.substr(0, semicolon)) != "gzip") return false;
    if (semicolon == std::string_view::npos) return true;
    std::string_view q = trim(coding.substr(semicolon + 1));
    if (!q.starts_with("q=")) return true;
    q.remove_prefix(2);
    return q.find_first_not_of("0.") != std::string_view::npos;  // q=0, 0.0, 0.000: refused
  });
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  return any_element(if_none_match, [etag](std::string_view tag) {
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    return tag == "*" || tag == etag;
  });
}

Response asset_response(const WebAsset& asset, const Request& request) {
  const bool not_modified =
      etag_matches(header(request, http::field::if_none_match).value_or(""), asset.etag);
  Response response{not_modified ? http::status::not_modified : http::status::ok,
                    request.version()};
  response.set(http::field::content_type, asset.content_type);
  response.set(http::field::etag, asset.etag);
  response.set(http::field::cache_control, "no-cache");  // revalidate: one ETag round trip
  response.set(http::field::vary, "Accept-Encoding");
  response.set("Content-Security-Policy", std::string(kWebContentSecurityPolicy));
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Referrer-Policy", "no-referrer");
  response.set("X-Frame-Options", "DENY");
  response.keep_alive(request.keep_alive());
  if (!not_modified) {
    const bool compressed =
        !asset.gzip.empty() &&
        accepts_gzip(header(request, http::field::accept_encoding).value_or(""));
    if (compressed) response.set(http::field::content_encoding, "gzip");
    response.body() = compressed ? asset.gzip : asset.body;
  }
  response.prepare_payload();
  return response;
}

void install_web_routes(Router& router, ApiContext& context) {
  const WebAssets* assets = context.web;
  router.add(http::verb::get, "/",
             [assets](Request& request, Stream&, RouteParams&) {
               return serve(assets, "index.html", request);
             },
             {.public_access = true});
  router.add(http::verb::get, "/assets/{path}",
             [assets](Request& request, Stream&, RouteParams& params) {
               return serve(assets, params.path.at(0), request);
             },
             {.public_access = true, .rest_of_path = true});
}

}  // namespace haul::api
