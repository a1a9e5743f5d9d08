// Which job store `haul serve --store SPEC` means: sqlite:PATH (relative
// paths from the working directory), postgres://... or postgresql://...
// (libpq's URL: user, password, host, port, database, parameters), or by
// default sqlite:DATA_DIR/haul.db; and the name this node goes by there.
// Pure: nothing is opened here.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace haul::daemon {

struct StoreSpec {
  enum class Kind { kSqlite, kPostgres };
  Kind kind = Kind::kSqlite;
  std::filesystem::path sqlite_path;  // kSqlite: absolute
  std::string postgres_url;           // kPostgres: as given, password and all
  // For logs, /healthz and the settings page: never a password.
  std::string display;
};

// Errors: kInvalidArgument "--store 'SPEC': ..." (the spec shown without
// its password).
Result<StoreSpec> parse_store_spec(std::string_view spec, const std::filesystem::path& data_dir);

// `haul serve --node NAME`: 1 to 64 letters, digits, '.', '_' or '-', and
// not "any" (which marks a job any node may run). Errors: kInvalidArgument
// "--node 'NAME': ...".
Result<void> check_node_name(std::string_view name);

}  // namespace haul::daemon
