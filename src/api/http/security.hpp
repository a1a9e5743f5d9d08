// Who may talk to the daemon: the Host and Origin checks that stop a web page
// elsewhere (DNS rebinding, cross-site POST) and the optional Bearer token.
// Pure functions over request headers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace haul::api {

struct SecurityPolicy {
  std::string token;                       // empty: no token required
  std::vector<std::string> allowed_hosts;  // lower-case names or IPs, no port ("[::1]" for IPv6)
  std::uint16_t port = 0;                  // the port we listen on
};

// The loopback names plus `listen_host` and any extra names.
SecurityPolicy make_policy(std::string token, const std::string& listen_host, std::uint16_t port,
                           const std::vector<std::string>& extra_hosts = {});

struct Rejection {
  int status = 403;  // 401 for a missing or wrong token
  std::string code;
  std::string message;
};

struct RequestFacts {
  std::string_view host;  // Host header
  std::optional<std::string_view> origin;
  std::optional<std::string_view> authorization;
  std::optional<std::string_view> query_token;  // ?access_token= (EventSource cannot send headers)
  bool public_route = false;  // the web UI's page and assets: no token, same Host/Origin checks
};

std::optional<Rejection> check_request(const SecurityPolicy& policy, const RequestFacts& facts);

// Constant-time comparison, so a token cannot be guessed byte by byte.
bool same_secret(std::string_view a, std::string_view b);

}  // namespace haul::api
