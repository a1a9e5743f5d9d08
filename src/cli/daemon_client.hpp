// A small blocking HTTP client for the CLI commands that talk to a running
// daemon (haul add, jobs, pause, ...). One request at a time; main thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace haul::cli {

struct DaemonAddress {
  std::string url = "http://127.0.0.1:5000";  // --server, $HAUL_SERVER
  std::string token;                          // --token, $HAUL_TOKEN
};

// Fills in $HAUL_SERVER / $HAUL_TOKEN where the flags left them empty.
DaemonAddress resolve_address(std::string server_flag, const std::string& token_flag);

struct Reply {
  int status = 0;
  std::string body;
};

class DaemonClient {
 public:
  explicit DaemonClient(DaemonAddress address);

  // Errors: kUnavailable "no haul daemon at URL (...)" when nothing answers.
  // HTTP error statuses are replies, not errors.
  Result<Reply> request(std::string_view method, std::string_view path, std::string_view body = {});
  // Like request(), but a 4xx/5xx reply becomes an error carrying the
  // daemon's message.
  Result<std::string> call(std::string_view method, std::string_view path,
                           std::string_view body = {});

  // GET `path`, its body handed to `on_body` as it arrives (a followed
  // stream). Errors: as call().
  Result<void> stream(std::string_view path, const std::function<void(std::string_view)>& on_body);

  const DaemonAddress& address() const { return address_; }

 private:
  Result<Reply> perform(std::string_view method, std::string_view path, std::string_view body,
                        const std::function<void(std::string_view)>& sink);

  DaemonAddress address_;
};

// The message of an {"error": {"code", "message"}} body, or the body itself.
std::string error_message(const Reply& reply);

}  // namespace haul::cli
