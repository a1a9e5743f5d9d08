// Maps method + path to a handler. Patterns are literal segments and
// "{name}" placeholders: "/api/v1/jobs/{id}/pause". Control thread only.
// A route may be public (answered without the bearer token: the web UI's
// page and assets) and may let its last placeholder take the rest of the
// path ("/assets/{path}" matches "/assets/js/main.js" with "js/main.js").
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "api/http/http.hpp"

namespace haul::api {

using Handler = std::function<Awaitable<HandlerResult>(Request&, Stream&, RouteParams&)>;

struct RouteOptions {
  bool public_access = false;  // no token needed (Host and Origin are still checked)
  bool rest_of_path = false;   // the last placeholder takes every remaining segment
};

class Router {
 public:
  void add(http::verb method, std::string_view pattern, Handler handler, RouteOptions options = {});

  struct Match {
    const Handler* handler = nullptr;  // null: no route
    bool path_known = false;           // some route has this path (405 rather than 404)
    bool public_access = false;        // the matched route needs no token
    std::vector<std::string> params;
  };
  Match match(http::verb method, std::string_view path) const;

  // A registered route as given to add(): GET "/api/v1/jobs/{id}".
  struct RouteInfo {
    http::verb method;
    std::string pattern;
    friend bool operator==(const RouteInfo&, const RouteInfo&) = default;
  };
  // Every route in registration order; for documentation and its tests.
  std::vector<RouteInfo> routes() const;

 private:
  struct Route {
    http::verb method;
    std::string pattern;                // as registered
    std::vector<std::string> segments;  // "{...}" marks a parameter
    Handler handler;
    RouteOptions options;
  };
  std::vector<Route> routes_;
};

// "/a/b/" -> {"a", "b"}; percent-decoded.
std::vector<std::string> split_path(std::string_view path);

}  // namespace haul::api
