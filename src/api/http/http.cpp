#include "api/http/http.hpp"

#include <nlohmann/json.hpp>

#include "net/file_name.hpp"

namespace haul::api {

std::optional<std::string> RouteParams::query_value(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::optional<std::string_view> header(const Request& request, http::field field) {
  auto it = request.find(field);
  if (it == request.end()) return std::nullopt;
  return std::string_view(it->value().data(), it->value().size());
}

Response json_response(http::status status, std::string body, const Request& request) {
  Response response{status, request.version()};
  response.set(http::field::content_type, "application/json");
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

Response error_response(http::status status, std::string_view code, std::string_view message,
                        const Request& request) {
  const nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  return json_response(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                       request);
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    const std::size_t eq = part.find('=');
    std::string key(part.substr(0, eq));
    std::string value(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1));
    std::replace(key.begin(), key.end(), '+', ' ');
    std::replace(value.begin(), value.end(), '+', ' ');
    pairs.emplace_back(net::percent_decode(key), net::percent_decode(value));
  }
  return pairs;
}

}  // namespace haul::api
