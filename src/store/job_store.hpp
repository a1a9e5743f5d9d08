// Where jobs live between restarts. One interface, three backends: SQLite
// (store/sqlite, the default), memory (tests) and PostgreSQL for nodes
// sharing a queue (which also implements store/queue_claims.hpp). Nothing
// SQL-specific leaks out of here.
//
// Threading: a JobStore is used by one thread at a time (the DB worker, see
// db_worker.hpp). Writes arrive as WriteBatches, each applied in one
// transaction, so many small changes cost one commit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "core/instance.hpp"
#include "core/job.hpp"

namespace haul::store {

struct JobFilter {
  std::optional<core::JobState> state;
  std::optional<std::string> target;
  std::optional<std::string> group;
};

// An entry of the bounded event log (SSE replay after a restart, audit).
struct StoredEvent {
  std::uint64_t id = 0;
  std::string type;  // core::event_type_name()
  std::string job_id;
  core::TimePoint at{};
  std::string payload;  // JSON rendered by the caller
  friend bool operator==(const StoredEvent&, const StoredEvent&) = default;
};

// A manifest registered with the daemon (POST /api/v1/manifests): the text
// as it was given, read again by the models code whenever it is used.
struct StoredManifest {
  std::string id;
  std::string name;    // the user's name for it, or the file's path
  std::string origin;  // the file it was read from on the daemon's machine; "" = inline
  std::string content;
  core::TimePoint created_at{};
  core::TimePoint updated_at{};
  friend bool operator==(const StoredManifest&, const StoredManifest&) = default;
};

// A write's claim on a job (store/queue_claims.hpp): the batch holding it
// is applied only while `node` still holds the job's lease with `token`, so
// a node whose lease lapsed and was taken over cannot overwrite the new
// holder's work. With `node` empty it says the opposite: no node holds a
// live lease on the job (a node changing a job nobody runs, say pausing a
// queued one, must not overwrite a run another node just claimed).
struct Fence {
  std::string job_id;
  std::string node;
  std::int64_t token = 0;
  friend bool operator==(const Fence&, const Fence&) = default;
};

// Asks the node running a job to pause or cancel it (nullopt: the request
// is answered, clear it). Touches only the job's requested action, never
// the columns its runner writes; loaded jobs carry it as pending_action.
struct ActionRequest {
  std::string job_id;
  std::optional<core::Action> action;
  friend bool operator==(const ActionRequest&, const ActionRequest&) = default;
};

// The source host of a job a batch inserts: the scheduler's runners know
// it (they resolve the job's source), the store cannot. Written to
// jobs.host, which job upserts never touch (it is not in kJobColumns), and
// read only by claims: a PostgreSQL claim with ClaimRequest::max_per_host
// counts each host's live leases across nodes. "" = unknown or none: no
// per-host limit applies to the job.
struct JobHost {
  std::string job_id;
  std::string host;
  friend bool operator==(const JobHost&, const JobHost&) = default;
};

struct WriteBatch {
  std::vector<core::Job> upserts{};    // whole jobs with their items; insert or replace
  std::vector<std::string> deletes{};  // job ids
  std::vector<StoredEvent> events{};   // appended; the log keeps the newest `event_capacity`
  std::vector<core::Instance> instance_upserts{};
  std::vector<std::string> instance_deletes{};  // instance ids
  std::vector<StoredManifest> manifest_upserts{};
  std::vector<std::string> manifest_deletes{};  // manifest ids
  // Checked before anything is written; one that no longer holds refuses
  // the whole batch. Only a store shared by several nodes (PostgreSQL)
  // checks them: a sole node (SQLite, memory) holds every lease, so there
  // they always hold.
  std::vector<Fence> fences{};
  std::vector<ActionRequest> action_requests{};  // a missing job is skipped
  // Leases given back in the same transaction, after the writes: an
  // attempt's last state and the end of its lease commit together, so no
  // node sees the one without the other. One whose node and token no longer
  // hold is skipped (a release checks nothing); an answered action request
  // is cleared. A shared store only: a sole node holds no leases.
  std::vector<Fence> releases{};
  // Applied after the job upserts and deletes of the same batch, the last
  // of a job winning; a missing job (never stored, or deleted in the same
  // batch) is skipped. No load returns it.
  std::vector<JobHost> hosts{};

  // Whether the batch writes nothing (fences are checks, not writes).
  bool empty() const {
    return upserts.empty() && deletes.empty() && events.empty() && instance_upserts.empty() &&
           instance_deletes.empty() && manifest_upserts.empty() && manifest_deletes.empty() &&
           action_requests.empty() && releases.empty() && hosts.empty();
  }
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  // Opens the database and creates or upgrades the schema.
  // Errors: kIo/kInternal with the database's message and path.
  virtual Result<void> open() = 0;
  // All of the batch or none of it. Deleting a job deletes its items.
  // Errors: kConflict "lease lost: job <id> is held by another node" when a
  // fence no longer holds (a shared store only; nothing is applied).
  virtual Result<void> apply(const WriteBatch& batch) = 0;
  // Jobs (with items) matching the filter, in seq order. A job's
  // pending_action is its stored ActionRequest, if any.
  virtual Result<std::vector<core::Job>> load_jobs(const JobFilter& filter) = 0;
  virtual Result<std::optional<core::Job>> load_job(const std::string& id) = 0;
  // Largest seq ever stored (0 for an empty store), so new jobs sort after it.
  virtual Result<std::int64_t> max_seq() = 0;
  // Events with id > after, oldest first, at most `limit`.
  virtual Result<std::vector<StoredEvent>> events_after(std::uint64_t after, std::size_t limit) = 0;
  // Largest event id ever stored (0 when none), so ids keep increasing.
  virtual Result<std::uint64_t> last_event_id() = 0;
  // Every registered instance, by id.
  virtual Result<std::vector<core::Instance>> load_instances() = 0;
  // Every registered manifest, by id.
  virtual Result<std::vector<StoredManifest>> load_manifests() = 0;
};

}  // namespace haul::store
