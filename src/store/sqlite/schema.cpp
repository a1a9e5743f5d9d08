#include "store/sqlite/schema.hpp"

#include <string>

namespace haul::store::sqlite {
namespace {

struct Migration {
  int version;
  const char* sql;
};

// Append-only: a released migration is never edited, a change of schema is a
// new entry here, the same one in store/postgres/schema.cpp, and
// kSchemaVersion (store/schema_version.hpp) raised to its number.
// Times are integer milliseconds since the epoch; states are state_name() text.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE jobs (
  id              TEXT PRIMARY KEY NOT NULL,
  seq             INTEGER NOT NULL,
  source          TEXT NOT NULL,
  target          TEXT NOT NULL,
  destination     TEXT NOT NULL,
  group_name      TEXT NOT NULL,
  name            TEXT NOT NULL,
  priority        INTEGER NOT NULL,
  state           TEXT NOT NULL,
  attempts        INTEGER NOT NULL,
  max_attempts    INTEGER NOT NULL,
  next_attempt_at INTEGER,
  error_code      TEXT,
  error_message   TEXT,
  created_at      INTEGER NOT NULL,
  started_at      INTEGER,
  finished_at     INTEGER,
  labels          TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX jobs_by_state ON jobs (state, seq);
CREATE INDEX jobs_by_seq ON jobs (seq);

CREATE TABLE items (
  job_id        TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  idx           INTEGER NOT NULL,
  source        TEXT NOT NULL,
  path          TEXT NOT NULL,
  sha256        TEXT NOT NULL,
  stage         TEXT NOT NULL,
  state         TEXT NOT NULL,
  size          INTEGER,
  bytes_done    INTEGER NOT NULL,
  error_code    TEXT,
  error_message TEXT,
  PRIMARY KEY (job_id, idx)
) WITHOUT ROWID;

CREATE TABLE events (
  id      INTEGER PRIMARY KEY,
  type    TEXT NOT NULL,
  job_id  TEXT NOT NULL,
  at      INTEGER NOT NULL,
  payload TEXT NOT NULL
);

-- max_seq and last_event_id are high-water marks: "largest ever stored" must
-- survive deleting the jobs and trimming the events that held it, or a
-- restarted daemon would hand out the same seq or event id twice (SSE
-- clients resume by event id). event_count is the number of rows in events,
-- kept so trimming costs the rows it removes, not a scan of the log.
CREATE TABLE counters (
  name  TEXT PRIMARY KEY NOT NULL,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('max_seq', 0), ('last_event_id', 0), ('event_count', 0);
)sql"},
    // How the job's source is resolved (hf include/exclude patterns, the
    // CivitAI file, HF cache layout): a JSON object of strings like labels.
    {2, R"sql(
ALTER TABLE jobs ADD COLUMN source_options TEXT NOT NULL DEFAULT '{}';
)sql"},
    // Remote instances, and the resource card each command of a remote job
    // comes from.
    {3, R"sql(
CREATE TABLE instances (
  id           TEXT PRIMARY KEY NOT NULL,
  ssh_command  TEXT NOT NULL,
  ui_home      TEXT NOT NULL,
  max_parallel INTEGER NOT NULL,
  created_at   INTEGER NOT NULL
) WITHOUT ROWID;
ALTER TABLE items ADD COLUMN resource TEXT NOT NULL DEFAULT '';
)sql"},
    // When a job last started on each instance (haul instances prune).
    {4, R"sql(
ALTER TABLE instances ADD COLUMN last_used_at INTEGER;
)sql"},
    // Symlinks a model's file must have, and the manifests of models.
    {5, R"sql(
ALTER TABLE items ADD COLUMN links TEXT NOT NULL DEFAULT '[]';
CREATE TABLE manifests (
  id          TEXT PRIMARY KEY NOT NULL,
  name        TEXT NOT NULL,
  origin      TEXT NOT NULL,
  content     TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
)sql"},
    // What a command printed last (the failed step of a card job), and where
    // errors happened ({"file", "stage", "attempt"}).
    {6, R"sql(
ALTER TABLE items ADD COLUMN output_tail TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN error_context TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN error_context TEXT NOT NULL DEFAULT '';
)sql"},
    // Several nodes sharing one queue (docs/design/cluster.md; only the
    // PostgreSQL store claims, but the tables stay the same in both): the
    // node whose disk a local job writes ('' = any node, as for instance
    // jobs; 'any' = a local job on a shared filesystem), the node holding
    // the job's lease (NULL = unclaimed) until lease_expires_at (ms, the
    // database's clock), the fencing epoch (+1 per claim), and each node's
    // heartbeat. Job upserts write `node` (with the job) and never the lease
    // columns.
    {7, R"sql(
ALTER TABLE jobs ADD COLUMN node TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_expires_at INTEGER;
ALTER TABLE jobs ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;
CREATE TABLE nodes (
  name         TEXT PRIMARY KEY NOT NULL,
  started_at   INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL
) WITHOUT ROWID;
)sql"},
    // A pause or cancel asked of the node running a job (store::ActionRequest:
    // action_name(), '' = none), in a column of its own: job upserts do not
    // name it, so the runner's writes never undo a request they did not see.
    {8, R"sql(
ALTER TABLE jobs ADD COLUMN requested_action TEXT NOT NULL DEFAULT '';
)sql"},
    // The source host of a local job (store::JobHost; '' = unknown or none),
    // so a claim can count a host's live leases across nodes for
    // --max-per-host. Written apart from job upserts (not in kJobColumns):
    // only the scheduler's runners know the host.
    {9, R"sql(
ALTER TABLE jobs ADD COLUMN host TEXT NOT NULL DEFAULT '';
)sql"},
};

static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion,
              "one migration per schema version");

Result<int> current_version(Database& db) {
  auto stmt = db.prepare("SELECT coalesce(max(version), 0) FROM schema_version", "read database");
  if (!stmt) return fail(stmt.error());
  auto row = db.step(*stmt, "read database");
  if (!row) return fail(row.error());
  return static_cast<int>(stmt->int64(0));
}

// One migration, in a transaction of its own. BEGIN IMMEDIATE takes the
// write lock before the version is read, so of two processes opening a fresh
// file at once, the second sees the first's work and skips the step.
Result<bool> apply_step(Database& db, const Migration& migration) {
  if (auto begun = db.exec("BEGIN IMMEDIATE", "upgrade database"); !begun)
    return fail(begun.error());
  auto body = [&]() -> Result<bool> {
    auto version = current_version(db);
    if (!version) return fail(version.error());
    if (*version >= migration.version) return false;
    if (auto done = db.exec(migration.sql, "upgrade database"); !done) return fail(done.error());
    auto record = db.prepare("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                             "upgrade database");
    if (!record) return fail(record.error());
    record->bind(1, std::int64_t{migration.version});
    record->bind(2, migration_time_ms());
    if (auto done = db.run(*record, "upgrade database"); !done) return fail(done.error());
    return true;
  };
  auto applied = body();
  if (!applied) {
    db.exec("ROLLBACK", "upgrade database");  // the step's error is the one to report
    return applied;
  }
  if (auto committed = db.exec("COMMIT", "upgrade database"); !committed) {
    db.exec("ROLLBACK", "upgrade database");
    return fail(committed.error());
  }
  return applied;
}

}  // namespace

Result<void> configure(Database& db) {
  // busy_timeout first: switching to WAL needs a lock another connection may hold.
  if (auto set = db.exec("PRAGMA busy_timeout = 5000", "open database"); !set) return set;
  auto wal = db.prepare("PRAGMA journal_mode = WAL", "open database");
  if (!wal) return fail(wal.error());
  auto row = db.step(*wal, "open database");
  if (!row) return fail(row.error());
  if (!*row || wal->text(0) != "wal") {
    return fail(ErrorCode::kIo, "cannot open database " + db.path().string() +
                                    ": the file system does not support write-ahead logging");
  }
  // cache_size is an upper bound (8 MiB), reached only by large stores:
  // with random UUID keys a big batch touches pages all over the file, and
  // re-reading them through pread was a third of apply()'s time at 10k jobs.
  return db.exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -8192",
                 "open database");
}

Result<int> migrate(Database& db) {
  if (auto made = db.exec("CREATE TABLE IF NOT EXISTS schema_version ("
                          "  version INTEGER PRIMARY KEY NOT NULL,"
                          "  applied_at INTEGER NOT NULL)",
                          "open database");
      !made) {
    return fail(made.error());
  }
  auto found = current_version(db);
  if (!found) return fail(found.error());
  if (*found > kSchemaVersion) {
    return fail(newer_schema(db.path().string(), *found));
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version <= *found) continue;
    auto applied = apply_step(db, migration);
    if (!applied) return fail(applied.error());
  }
  return current_version(db);
}

}  // namespace haul::store::sqlite
