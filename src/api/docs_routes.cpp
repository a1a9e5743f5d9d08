// GET /api/v1/openapi.json: the OpenAPI document of every route installed
// here. Tests hold the two together (docs_routes_test.cpp compares it with
// the router's routes; the daemon test calls every documented operation).
#include "api/api.hpp"
#include "api/openapi.hpp"

namespace haul::api {

void install_docs_routes(Router& router, ApiContext&) {
  router.add(http::verb::get, "/api/v1/openapi.json",
             [](Request& request, Stream&, RouteParams&) -> Awaitable<HandlerResult> {
               co_return json_response(http::status::ok, std::string(openapi_json()), request);
             });
}

}  // namespace haul::api
