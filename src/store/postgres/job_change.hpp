// Change notifications between nodes sharing one PostgreSQL queue (the
// database side of docs/design/cluster.md step 5, "one live view"): what a
// change says (JobChange), how a batch's changes are written into NOTIFY
// payloads on the channel kChangeChannel and read back from them.
//
// A payload names one kind of row, one operation, the writing node and a
// chunk of ids: {"kind":"job","op":"upsert","node":"a","ids":["j1","j2"]}.
// Chunks keep each payload far below PostgreSQL's 8000-byte limit while a
// batch of thousands of jobs costs tens of notifications, not thousands.
//
// Threading: plain functions of their arguments, any thread;
// notify_changes() runs on the thread that owns the connection.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "store/job_store.hpp"

namespace haul::store::postgres {

class Connection;

// The channel every store notifies and every listener LISTENs on.
inline constexpr std::string_view kChangeChannel = "haul_jobs";

// Bytes of ids (as JSON strings, with their commas) one payload carries at
// most: about a hundred UUIDs, half of PostgreSQL's payload limit.
inline constexpr std::size_t kPayloadIdBudget = 4000;

struct JobChange {
  enum class Kind { kJob, kInstance, kManifest };
  enum class Op {
    kUpsert,  // the row was inserted or replaced: reload it
    kDelete,  // the row is gone
    // Changes may have been missed (the listener's connection dropped, or a
    // writer could not name an id in a payload): reload everything. `id` is
    // empty; `kind` is kJob.
    kResync,
  };
  Kind kind = Kind::kJob;
  Op op = Op::kUpsert;
  std::string id;
  std::string node;  // the writer's node name; empty when it has none (or for a lost connection)

  friend bool operator==(const JobChange&, const JobChange&) = default;
};

std::string_view change_kind_name(JobChange::Kind kind);  // "job", "instance", "manifest"
std::string_view change_op_name(JobChange::Op op);        // "upsert", "delete", "resync"

// The payloads announcing that `ids` (of `kind`) had `op` done to them by
// `node`, in the order given, each below kPayloadIdBudget bytes of ids plus
// its header. An id too long to fit in a payload on its own (ids are UUIDs,
// so only a strange caller's) becomes a resync payload instead, so readers
// still learn that something changed.
std::vector<std::string> change_payloads(JobChange::Kind kind, JobChange::Op op,
                                         std::string_view node,
                                         const std::vector<std::string_view>& ids);

// The changes one payload announces, one per id (a resync payload: one
// resync). Errors: kProtocol for a payload this version cannot read (not
// JSON, an unknown kind or op); the caller should treat it as a resync.
Result<std::vector<JobChange>> parse_change_payload(std::string_view payload);

// Inside apply()'s transaction: sends the notifications for every job,
// instance and manifest `batch` upserts or deletes (in that order: jobs
// upserted, jobs deleted, then instances and manifests likewise; a job with
// an action request counts as upserted), in one
// statement per thousand payloads. PostgreSQL delivers them when the
// transaction commits and drops them when it rolls back. Errors: those of
// Connection::exec.
Result<void> notify_changes(Connection& db, const WriteBatch& batch, std::string_view node);

}  // namespace haul::store::postgres
