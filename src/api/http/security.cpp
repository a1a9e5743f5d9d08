#include "api/http/security.hpp"

#include <algorithm>

#include "base/text.hpp"

namespace haul::api {

namespace {

// "example.com:5000" -> ("example.com", "5000"); "[::1]:80" -> ("[::1]", "80").
std::pair<std::string, std::string> split_host_port(std::string_view text) {
  text = trim(text);
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return {to_lower(text), ""};
    host = text.substr(0, close + 1);
    if (close + 2 <= text.size() && text[close + 1] == ':') port = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    host = text.substr(0, colon);
    if (colon != std::string_view::npos) port = text.substr(colon + 1);
  }
  return {to_lower(host), port};
}

bool host_allowed(const SecurityPolicy& policy, const std::string& host) {
  return std::find(policy.allowed_hosts.begin(), policy.allowed_hosts.end(), host) !=
         policy.allowed_hosts.end();
}

}  // namespace

SecurityPolicy make_policy(std::string token, const std::string& listen_host, std::uint16_t port,
                           const std::vector<std::string>& extra_hosts) {
  SecurityPolicy policy;
  policy.token = std::move(token);
  policy.port = port;
  policy.allowed_hosts = {"127.0.0.1", "localhost", "[::1]"};
  auto add = [&](std::string host) {
    host = to_lower(host);
    if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
    if (!host.empty() && !host_allowed(policy, host)) policy.allowed_hosts.push_back(host);
  };
  // A wildcard listen address accepts any Host only when a token guards it.
  if (listen_host != "0.0.0.0" && listen_host != "::") add(listen_host);
  for (const std::string& host : extra_hosts) add(host);
  return policy;
}

bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

std::optional<Rejection> check_request(const SecurityPolicy& policy, const RequestFacts& facts) {
  const bool token_guarded = !policy.token.empty();
  const auto [host, port] = split_host_port(facts.host);
  // With a token, remote names are expected (the daemon listens beyond
  // loopback); without one, only loopback names: a page that rebinds its own
  // name to 127.0.0.1 still sends its name.
  if (host.empty() || (!token_guarded && !host_allowed(policy, host))) {
    return Rejection{403, "forbidden_host",
                     "requests for host '" + std::string(facts.host) + "' are refused"};
  }
  if (facts.origin) {
    // A browser page may drive the daemon only if it was served by the daemon
    // itself: same allowed host, same port.
    std::string_view origin = *facts.origin;
    const std::size_t scheme = origin.find("://");
    const auto [origin_host, origin_port] =
        split_host_port(scheme == std::string_view::npos ? origin : origin.substr(scheme + 3));
    const bool known_host =
        host_allowed(policy, origin_host) || (token_guarded && origin_host == host);
    if (!known_host || origin_port != std::to_string(policy.port)) {
      return Rejection{403, "forbidden_origin",
                       "cross-origin request from '" + std::string(origin) + "' refused"};
    }
  }
  if (token_guarded && !facts.public_route) {
    std::string_view given;
    if (facts.authorization && facts.authorization->substr(0, 7) == "Bearer ") {
      given = facts.authorization->substr(7);
    } else if (facts.query_token) {
      given = *facts.query_token;
    }
    if (given.empty() || !same_secret(given, policy.token)) {
      return Rejection{401, "unauthorized", "a valid bearer token is required"};
    }
  }
  return std::nullopt;
}

}  // namespace haul::api
