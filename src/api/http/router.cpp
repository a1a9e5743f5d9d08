#include "api/http/router.hpp"

#include "net/file_name.hpp"

namespace haul::api {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const std::size_t slash = path.find('/');
    segments.push_back(net::percent_decode(path.substr(0, slash)));
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
  }
  return segments;
}

void Router::add(http::verb method, std::string_view pattern, Handler handler,
                 RouteOptions options) {
  routes_.push_back(
      Route{method, std::string(pattern), split_path(pattern), std::move(handler), options});
}

std::vector<Router::RouteInfo> Router::routes() const {
  std::vector<RouteInfo> out;
  out.reserve(routes_.size());
  for (const Route& route : routes_) out.push_back(RouteInfo{route.method, route.pattern});
  return out;
}

Router::Match Router::match(http::verb method, std::string_view path) const {
  const std::vector<std::string> segments = split_path(path);
  Match result;
  for (const Route& route : routes_) {
    const bool rest = route.options.rest_of_path;
    if (rest ? segments.size() < route.segments.size() : route.segments.size() != segments.size()) {
      continue;
    }
    std::vector<std::string> params;
    bool matched = true;
    for (std::size_t i = 0; i < route.segments.size() && matched; ++i) {
      const std::string& want = route.segments[i];
      if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
        params.push_back(segments[i]);
      } else {
        matched = want == segments[i];
      }
    }
    if (!matched) continue;
    if (rest) {
      for (std::size_t i = route.segments.size(); i < segments.size(); ++i) {
        params.back() += "/" + segments[i];
      }
    }
    result.path_known = true;
    if (route.method == method) {
      result.handler = &route.handler;
      result.public_access = route.options.public_access;
      result.params = std::move(params);
      return result;
    }
  }
  return result;
}

}  // namespace haul::api
