#include "daemon/store_spec.hpp"

#include <algorithm>

#include "net/url.hpp"

namespace haul::daemon {

namespace fs = std::filesystem;

Result<StoreSpec> parse_store_spec(std::string_view spec, const fs::path& data_dir) {
  StoreSpec out;
  if (spec.empty()) {
    out.sqlite_path = fs::absolute(data_dir / "haul.db");
  } else if (spec.rfind("sqlite:", 0) == 0) {
    if (spec.size() == 7)
      return fail(ErrorCode::kInvalidArgument, "--store 'sqlite:': the database file is missing");
    out.sqlite_path = fs::absolute(fs::path(spec.substr(7)));
  } else if (spec.rfind("postgres://", 0) == 0 || spec.rfind("postgresql://", 0) == 0) {
    const std::size_t host = spec.find("://") + 3;
    if (spec.size() == host)
      return fail(ErrorCode::kInvalidArgument,
                  "--store '" + std::string(spec) +
                      "': the server is missing (postgres://USER@HOST:PORT/DB)");
    out.kind = StoreSpec::Kind::kPostgres;
    out.postgres_url = std::string(spec);
    out.display = net::redact_secrets(spec);
    return out;
  } else {
    return fail(ErrorCode::kInvalidArgument,
                "--store '" + net::redact_secrets(spec) +
                    "': expected sqlite:PATH or postgres://USER@HOST:PORT/DB");
  }
  out.display = "sqlite:" + out.sqlite_path.string();
  return out;
}

Result<void> check_node_name(std::string_view name) {
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  };
  if (name.empty() || name.size() > 64 || !std::all_of(name.begin(), name.end(), allowed))
    return fail(ErrorCode::kInvalidArgument,
                "--node '" + std::string(name) + "': 1 to 64 letters, digits, '.', '_' or '-'");
  if (name == "any")
    return fail(ErrorCode::kInvalidArgument,
                "--node 'any': reserved (it marks a job any node may run)");
  return {};
}

}  // namespace haul::daemon
