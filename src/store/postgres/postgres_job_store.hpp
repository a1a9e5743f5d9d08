// A JobStore in a PostgreSQL database, for nodes that share one queue: the
// same tables and semantics as the SQLite store (store/sqlite), reached over
// one libpq connection. libpq stays out of this header.
//
// Threading: one thread at a time per object (the DB worker). Several
// objects, in one process or on several nodes, may share a database: readers
// see the last committed state, writers take turns (a batch waits for the
// one being applied), and only one of several nodes starting at once
// upgrades the schema while the others wait for it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "store/job_store.hpp"

namespace haul::store::postgres {

class Connection;

class PostgresJobStore final : public JobStore {
 public:
  // Nothing is touched until open(). `url` is
  // postgres://user[:password]@host[:port]/db (or postgresql://, with any
  // libpq URL parameter, e.g. ?sslmode=require); messages never show its
  // password. `event_capacity` is how many of the newest events the log
  // keeps (0 keeps none; ids still never repeat).
  explicit PostgresJobStore(std::string url, std::size_t event_capacity = 10000);
  ~PostgresJobStore() override;
  PostgresJobStore(const PostgresJobStore&) = delete;
  PostgresJobStore& operator=(const PostgresJobStore&) = delete;

  // Before open(): this store is the only one serving the queue in its
  // database (one node). open() then holds a session lock for the store's
  // life and fails with kUnavailable when another store holds it; a store
  // that loses it (its connection dropped and another node took the queue)
  // fails every later call. Several nodes on one queue need claims and
  // leases (docs/design/cluster.md), not built yet.
  void serve_alone() { alone_ = true; }

  // Connects and creates or upgrades the schema. Calling it again on an open
  // store does nothing; a failed open() leaves it closed. Errors name the URL
  // without its password, on one line: kInvalidArgument (not a postgres URL),
  // kPermissionDenied (wrong password), kUnavailable (server unreachable,
  // no such database), kInternal when the database was written by a newer haul.
  Result<void> open() override;

  // One transaction: upserts (the job row, then its items replaced), then
  // deletes, instances, manifests, events, then the log trimmed to
  // event_capacity. On any failure nothing of the batch is applied.
  // Errors: kInternal when the store is not open or an event id is already
  // taken, kInvalidArgument for an event id >= 2^63 or a text PostgreSQL
  // cannot hold (a NUL byte, invalid UTF-8), kUnavailable (connection lost),
  // kNoSpace, kIo.
  Result<void> apply(const WriteBatch& batch) override;

  // load_jobs and load_job read in one snapshot, so a job never comes back
  // with items from a different commit. Errors: kInternal when not open,
  // kUnavailable, kDataLoss for a row this version cannot read.
  Result<std::vector<core::Job>> load_jobs(const JobFilter& filter) override;
  Result<std::optional<core::Job>> load_job(const std::string& id) override;
  Result<std::int64_t> max_seq() override;
  // `after` and `limit` may be anything; ids > 2^63-1 simply match nothing.
  Result<std::vector<StoredEvent>> events_after(std::uint64_t after, std::size_t limit) override;
  Result<std::uint64_t> last_event_id() override;
  Result<std::vector<core::Instance>> load_instances() override;
  Result<std::vector<StoredManifest>> load_manifests() override;

 private:
  Result<void> check_open() const;
  Result<void> write(const WriteBatch& batch);
  Result<void> write_jobs(const WriteBatch& batch);
  Result<void> write_instances_and_manifests(const WriteBatch& batch);
  // The events, the log trimmed, then the high-water marks raised.
  Result<void> write_events_and_marks(const WriteBatch& batch);
  Result<std::int64_t> counter(std::string_view name);
  // Runs `body` in a read-only snapshot transaction.
  template <class F>
  Result<void> in_snapshot(F&& body);
  Result<std::vector<core::Job>> read_jobs(const JobFilter& filter);
  Result<std::optional<core::Job>> read_job_by_id(const std::string& id);

  std::string url_;
  std::string redacted_url_;
  std::size_t event_capacity_;
  std::unique_ptr<Connection> db_;  // null until open() succeeds
  bool alone_ = false;
};

}  // namespace haul::store::postgres
