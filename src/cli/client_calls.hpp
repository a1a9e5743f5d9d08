// The daemon's JSON answers as the CLI commands read them, and how a
// refusal becomes an error line and an exit code. Shared by the commands
// that drive a running daemon.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "base/error.hpp"
#include "cli/daemon_client.hpp"

namespace haul::cli {

// Prints "haul: <message>" on stderr; 2 for bad usage, 1 otherwise.
int report(const Error& error);

// GET / POST `path`, the answer parsed. Errors: the client's, or kProtocol
// when the daemon sends something that is not JSON.
Result<nlohmann::json> get_json(DaemonClient& client, const std::string& path);
Result<nlohmann::json> post_json(DaemonClient& client, const std::string& path,
                                 const nlohmann::json& body);

}  // namespace haul::cli
