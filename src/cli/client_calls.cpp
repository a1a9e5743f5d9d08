#include "cli/client_calls.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace haul::cli {

namespace {

Result<nlohmann::json> parsed(Result<std::string> body) {
  if (!body) return fail(body.error());
  auto value = nlohmann::json::parse(*body, nullptr, false);
  if (value.is_discarded())
    return fail(ErrorCode::kProtocol, "the daemon sent something that is not JSON");
  return value;
}

}  // namespace

int report(const Error& error) {
  std::fprintf(stderr, "haul: %s\n", error.message.c_str());
  return error.code == ErrorCode::kInvalidArgument && error.http_status == 0 ? 2 : 1;
}

Result<nlohmann::json> get_json(DaemonClient& client, const std::string& path) {
  return parsed(client.call("GET", path));
}

Result<nlohmann::json> post_json(DaemonClient& client, const std::string& path,
                                 const nlohmann::json& body) {
  return parsed(client.call("POST", path, body.dump()));
}

}  // namespace haul::cli
