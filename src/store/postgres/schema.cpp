#include "store/postgres/schema.hpp"

#include <string>

namespace haul::store::postgres {
namespace {

constexpr std::string_view kUpgrade = "upgrade database";

struct Migration {
  int version;
  const char* sql;
};

// Append-only, like SQLite's list, and numbered the same: version N here
// holds what version N there holds. Times are BIGINT milliseconds since the
// epoch, every integer BIGINT, text TEXT; states are state_name() text.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE jobs (
  id              TEXT PRIMARY KEY NOT NULL,
  seq             BIGINT NOT NULL,
  source          TEXT NOT NULL,
  target          TEXT NOT NULL,
  destination     TEXT NOT NULL,
  group_name      TEXT NOT NULL,
  name            TEXT NOT NULL,
  priority        BIGINT NOT NULL,
  state           TEXT NOT NULL,
  attempts        BIGINT NOT NULL,
  max_attempts    BIGINT NOT NULL,
  next_attempt_at BIGINT,
  error_code      TEXT,
  error_message   TEXT,
  created_at      BIGINT NOT NULL,
  started_at      BIGINT,
  finished_at     BIGINT,
  labels          TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX jobs_by_state ON jobs (state, seq);
CREATE INDEX jobs_by_seq ON jobs (seq);

CREATE TABLE items (
  job_id        TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  idx           BIGINT NOT NULL,
  source        TEXT NOT NULL,
  path          TEXT NOT NULL,
  sha256        TEXT NOT NULL,
  stage         TEXT NOT NULL,
  state         TEXT NOT NULL,
  size          BIGINT,
  bytes_done    BIGINT NOT NULL,
  error_code    TEXT,
  error_message TEXT,
  PRIMARY KEY (job_id, idx)
);

CREATE TABLE events (
  id      BIGINT PRIMARY KEY,
  type    TEXT NOT NULL,
  job_id  TEXT NOT NULL,
  at      BIGINT NOT NULL,
  payload TEXT NOT NULL
);

-- High-water marks and the event log's row count, as in the SQLite store:
-- max_seq and last_event_id survive deleting the jobs and trimming the
-- events that held them.
CREATE TABLE counters (
  name  TEXT PRIMARY KEY NOT NULL,
  value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('max_seq', 0), ('last_event_id', 0), ('event_count', 0);
)sql"},
    {2, R"sql(
ALTER TABLE jobs ADD COLUMN source_options TEXT NOT NULL DEFAULT '{}';
)sql"},
    {3, R"sql(
CREATE TABLE instances (
  id           TEXT PRIMARY KEY NOT NULL,
  ssh_command  TEXT NOT NULL,
  ui_home      TEXT NOT NULL,
  max_parallel BIGINT NOT NULL,
  created_at   BIGINT NOT NULL
);
ALTER TABLE items ADD COLUMN resource TEXT NOT NULL DEFAULT '';
)sql"},
    {4, R"sql(
ALTER TABLE instances ADD COLUMN last_used_at BIGINT;
)sql"},
    {5, R"sql(
ALTER TABLE items ADD COLUMN links TEXT NOT NULL DEFAULT '[]';
CREATE TABLE manifests (
  id          TEXT PRIMARY KEY NOT NULL,
  name        TEXT NOT NULL,
  origin      TEXT NOT NULL,
  content     TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL
);
)sql"},
    {6, R"sql(
ALTER TABLE items ADD COLUMN output_tail TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN error_context TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN error_context TEXT NOT NULL DEFAULT '';
)sql"},
    // Claims, leases and fencing (docs/design/cluster.md, queue_claims.hpp).
    // The columns and the nodes table are SQLite's version 7; the two
    // partial indexes are this store's alone, as only it claims: the first
    // serves the claim's ORDER BY over unfinished jobs without walking the
    // finished ones, the second renew() and the count of a node's (or an
    // instance's) live leases.
    {7, R"sql(
ALTER TABLE jobs ADD COLUMN node TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_expires_at BIGINT;
ALTER TABLE jobs ADD COLUMN lease_token BIGINT NOT NULL DEFAULT 0;
CREATE TABLE nodes (
  name         TEXT PRIMARY KEY NOT NULL,
  started_at   BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL
);
CREATE INDEX jobs_claimable ON jobs (priority DESC, seq)
  WHERE state IN ('queued', 'retrying', 'running');
CREATE INDEX jobs_by_owner ON jobs (owner) WHERE owner IS NOT NULL;
)sql"},
    {8, R"sql(
ALTER TABLE jobs ADD COLUMN requested_action TEXT NOT NULL DEFAULT '';
)sql"},
    // SQLite's version 9, the source host of a local job, plus an index of
    // this store's alone: a claim with a per-host limit counts the live
    // leases of each host, which only rows with an owner can hold.
    {9, R"sql(
ALTER TABLE jobs ADD COLUMN host TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_live_by_host ON jobs (host) WHERE owner IS NOT NULL;
)sql"},
};

static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion,
              "one migration per schema version");

// The body of migrate(), inside its transaction and holding the lock.
Result<int> upgrade(Connection& db) {
  // Created under the lock too: two CREATE TABLE IF NOT EXISTS racing each
  // other can both see no table and one then fails on the catalog's key.
  Params none;
  if (auto made = db.exec("CREATE TABLE IF NOT EXISTS schema_version ("
                          "  version BIGINT PRIMARY KEY NOT NULL,"
                          "  applied_at BIGINT NOT NULL)",
                          none, kUpgrade);
      !made) {
    return fail(made.error());
  }
  auto found = db.exec("SELECT coalesce(max(version), 0) FROM schema_version", none, kUpgrade);
  if (!found) return fail(found.error());
  const auto version = static_cast<int>(found->int64(0, 0));
  if (version > kSchemaVersion) {
    return fail(newer_schema(db.redacted_url(), version));
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version <= version) continue;
    if (auto done = db.exec_script(migration.sql, kUpgrade); !done) return fail(done.error());
    Params record;
    record.add(std::int64_t{migration.version});
    record.add(migration_time_ms());
    if (auto done = db.exec("INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
                            record, kUpgrade);
        !done) {
      return fail(done.error());
    }
  }
  return kSchemaVersion;
}

}  // namespace

// Unlike SQLite's one transaction per step, every pending step runs in one:
// PostgreSQL's DDL is transactional, so a failed upgrade leaves the database
// exactly as it was, not halfway.
Result<int> migrate(Connection& db) {
  if (auto begun = db.exec_script(
          "BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLockKey) + ")",
          kUpgrade);
      !begun) {
    db.roll_back();
    return fail(begun.error());
  }
  auto upgraded = upgrade(db);
  if (!upgraded) {
    db.roll_back();
    return upgraded;
  }
  if (auto committed = db.exec_script("COMMIT", kUpgrade); !committed) {
    db.roll_back();
    return fail(committed.error());
  }
  return upgraded;
}

}  // namespace haul::store::postgres
