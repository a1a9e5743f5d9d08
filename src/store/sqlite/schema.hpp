// The SQLite job store's schema: the connection settings it relies on and the
// numbered migrations that build the tables. Internal to store/sqlite.
#pragma once

#include "base/error.hpp"
#include "store/schema_version.hpp"
#include "store/sqlite/database.hpp"

namespace haul::store::sqlite {

// WAL (readers never block the writer), synchronous=FULL (a commit survives
// power loss), busy_timeout=5000 ms (a second connection waits instead of
// failing), foreign_keys=ON and a page cache of up to 8 MiB.
// Precondition: `db` is open. Errors: kIo, kUnavailable when another
// connection holds the file locked past the timeout.
Result<void> configure(Database& db);

// Applies every migration newer than the database's recorded version, each
// in its own transaction that also records it in `schema_version`. Running
// it again (or from two processes at once) changes nothing. Returns the
// version the database is at. Errors: kIo from SQLite, kInternal when the
// database was written by a newer haul (a version this one does not know).
Result<int> migrate(Database& db);

}  // namespace haul::store::sqlite
