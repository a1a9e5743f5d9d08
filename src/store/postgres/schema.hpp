// The PostgreSQL job store's schema: the numbered migrations that build its
// tables, the same versions, tables and columns as the SQLite store's
// (store/sqlite/schema.cpp) in PostgreSQL types. Internal to store/postgres.
//
// Threading: called by the store's thread, on its connection.
#pragma once

#include <cstdint>

#include "base/error.hpp"
#include "store/postgres/connection.hpp"
#include "store/schema_version.hpp"

namespace haul::store::postgres {

// The pg_advisory_xact_lock key migrations run under, so that of several
// nodes starting at once one upgrades and the others wait, then find the
// work done. ASCII "haul_sch": fixed forever, as other nodes rely on it.
inline constexpr std::int64_t kMigrationLockKey = 0x6861756c5f736368;

// Applies every migration newer than the database's recorded version in one
// transaction, which also records each in `schema_version`. Running it again
// (or from two nodes at once) changes nothing. Returns the version the
// database is at. Errors: those of Connection::exec, and kInternal when the
// database was written by a newer haul (a version this one does not know).
Result<int> migrate(Connection& db);

}  // namespace haul::store::postgres
