// What the stores' schemas share: one version number for both (a database
// of either kind at version N has the same tables and columns), the time a
// migration is recorded with, and the refusal of a database a newer haul
// wrote. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "base/error.hpp"

namespace haul::store {

// The version every store's migrate() brings a database to: the last
// migration's number, in store/sqlite/schema.cpp and store/postgres/schema.cpp alike.
inline constexpr int kSchemaVersion = 9;

// Now, in ms since the epoch: schema_version.applied_at.
std::int64_t migration_time_ms();

// kInternal "cannot open database <database>: its schema version <found> is
// newer than this haul's (<kSchemaVersion>)".
Error newer_schema(const std::string& database, std::int64_t found);

}  // namespace haul::store
