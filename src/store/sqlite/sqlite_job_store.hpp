// The default JobStore: one SQLite file (WAL mode, synchronous=FULL) holding
// jobs, their items and the bounded event log. SQLite itself stays behind a
// pimpl, so including this header does not pull in sqlite3.h.
//
// Threading: one thread at a time per object (the DB worker). Several
// objects, in one process or several, may share a file: readers see the last
// committed state, a writer waits up to 5 s for another's transaction.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>

#include "store/job_store.hpp"

namespace haul::store::sqlite {

class SqliteJobStore final : public JobStore {
 public:
  // Nothing is touched until open(). `event_capacity` is how many of the
  // newest events the log keeps (0 keeps none; ids still never repeat).
  explicit SqliteJobStore(std::filesystem::path db_path, std::size_t event_capacity = 10000);
  ~SqliteJobStore() override;
  SqliteJobStore(const SqliteJobStore&) = delete;
  SqliteJobStore& operator=(const SqliteJobStore&) = delete;

  // Creates the parent directory and the file (mode 0600: it holds URLs,
  // which may carry tokens) when missing, then upgrades the schema. Calling
  // it again on an open store does nothing. Errors name the path:
  // "cannot open database /x/haul.db: unable to open database file" (kIo),
  // kNoSpace, kUnavailable when another process keeps it locked past 5 s,
  // kInternal when the file was written by a newer haul.
  Result<void> open() override;

  // One BEGIN IMMEDIATE transaction: upserts (the job row, then its items
  // replaced in order), then deletes, then events, then the log trimmed to
  // event_capacity. On any failure nothing of the batch is applied.
  // Errors: kInternal when the store is not open or an event id is already
  // taken, kInvalidArgument for an event id >= 2^63, kNoSpace, kIo,
  // kUnavailable (locked by another writer past 5 s).
  Result<void> apply(const WriteBatch& batch) override;

  // Reads run in one read transaction each, so a job never comes back with
  // items from a different commit. Errors: kInternal when not open, kIo,
  // kDataLoss for a row this version cannot read (unknown state, bad labels).
  Result<std::vector<core::Job>> load_jobs(const JobFilter& filter) override;
  Result<std::optional<core::Job>> load_job(const std::string& id) override;
  Result<std::int64_t> max_seq() override;
  // `after` and `limit` may be anything; ids > 2^63-1 simply match nothing.
  Result<std::vector<StoredEvent>> events_after(std::uint64_t after, std::size_t limit) override;
  Result<std::uint64_t> last_event_id() override;
  Result<std::vector<core::Instance>> load_instances() override;
  Result<std::vector<StoredManifest>> load_manifests() override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace haul::store::sqlite
