// A JobStore in a PostgreSQL database, for nodes that share one queue: the
// same tables and semantics as the SQLite store (store/sqlite), reached over
// one libpq connection, plus the claims, leases and fencing that let those
// nodes share it (QueueClaims; defined in postgres_queue_claims.cpp).
// libpq stays out of this header.
//
// Threading: one thread at a time per object (the DB worker). Several
// objects, in one process or on several nodes, may share a database: readers
// see the last committed state, writers take turns (a batch waits for the
// one being applied), and only one of several nodes starting at once
// upgrades the schema while the others wait for it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "store/job_store.hpp"
#include "store/queue_claims.hpp"

namespace haul::store::postgres {

class Connection;

class PostgresJobStore final : public JobStore, public QueueClaims {
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

  // Before open(): this store serves the queue as node `node` (its
  // claims, leases and fences, and what its notifications name as writer),
  // and no other store may serve under that name at once: two nodes of one
  // name would share their leases, which fences cannot tell apart. open()
  // then holds a session lock keyed by the name for the store's life and
  // fails with kUnavailable when another store holds it; a store that loses
  // it (its connection dropped and a node of that name started elsewhere)
  // fails every later call.
  void serve_as(std::string node) {
    node_name_ = std::move(node);
    serving_ = true;
  }

  // The writer's node name that the change notifications of apply() carry
  // (store/postgres/job_change.hpp), so that a node's listener can skip its
  // own writes. Empty (the default) names none.
  void set_node_name(std::string node) { node_name_ = std::move(node); }

  // Connects and creates or upgrades the schema. Calling it again on an open
  // store does nothing; a failed open() leaves it closed. Errors name the URL
  // without its password, on one line: kInvalidArgument (not a postgres URL),
  // kPermissionDenied (wrong password), kUnavailable (server unreachable,
  // no such database), kInternal when the database was written by a newer haul.
  Result<void> open() override;

  // One transaction: the fences checked (each job's row locked until the
  // commit, so no claim takes it over halfway), upserts (the job row, then
  // its items replaced; owner, lease, requested_action and host untouched),
  // then deletes, action requests (requested_action only), hosts (host
  // only; no notification: no load reads it), instances, manifests, a
  // change notification on channel haul_jobs for each job, instance and
  // manifest written or deleted, and each job with an action request (an
  // upsert; delivered to listeners at the commit, never for a batch rolled
  // back; see job_change.hpp), events (an id already stored keeps its first
  // event: nodes sharing the queue may meet on one), then the log trimmed
  // to event_capacity. On any failure nothing of the batch is applied. A
  // batch of fences alone writes nothing but is checked all the same.
  // Errors: kConflict "lease lost: job <id> ..." when a fence no longer
  // holds: its node no longer holds the job with its token (taken over,
  // released or deleted; an expired lease nobody took yet still holds) or,
  // for a fence without a node, another node holds a live lease on it
  // ("... is held by node <owner>"); kInternal when the store is not open,
  // kInvalidArgument for an event id >= 2^63 or a text PostgreSQL cannot
  // hold (a NUL byte, invalid UTF-8), kUnavailable (connection lost),
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

  // QueueClaims (store/queue_claims.hpp), on the database server's clock.
  // Instance slots are counted under a transaction-scoped advisory lock per
  // target, so two nodes cannot both take an instance's last slot; a
  // host's (ClaimRequest::max_per_host) under one lock for all hosts.
  Result<std::vector<Claim>> claim(const ClaimRequest& request) override;
  Result<std::size_t> renew(const std::string& node, std::chrono::milliseconds lease) override;
  Result<bool> release(const std::string& node, const std::string& job_id,
                       std::int64_t token) override;
  Result<std::size_t> abandon(const std::string& node) override;
  Result<std::vector<NodeInfo>> nodes() override;

  // Tests only: this store reads the database's clock `offset` later than
  // it is (in every lease expression), so a test expires a lease by moving
  // one node's clock instead of sleeping.
  void set_clock_offset_for_tests(std::chrono::milliseconds offset) { clock_offset_ = offset; }

 private:
  Result<void> check_open() const;
  Result<void> write(const WriteBatch& batch);
  Result<void> write_jobs(const WriteBatch& batch);
  Result<void> write_action_requests(const WriteBatch& batch);
  Result<void> write_hosts(const WriteBatch& batch);
  Result<void> write_releases(const WriteBatch& batch);
  Result<void> write_instances_and_manifests(const WriteBatch& batch);
  // The events, the log trimmed, then the high-water marks raised.
  Result<void> write_events_and_marks(const WriteBatch& batch);
  Result<std::int64_t> counter(std::string_view name);
  // Runs `body` in a read-only snapshot transaction.
  template <class F>
  Result<void> in_snapshot(F&& body);
  Result<std::vector<core::Job>> read_jobs(const JobFilter& filter);
  Result<std::optional<core::Job>> read_job_by_id(const std::string& id);
  // Inside apply()'s transaction: locks each fenced job's row and fails with
  // kConflict at the first fence that no longer holds.
  Result<void> check_fences(const std::vector<Fence>& fences);
  // claim()'s body, inside its transaction.
  Result<std::vector<Claim>> claim_jobs(const ClaimRequest& request);
  // The SQL expression for "now" in ms since the epoch on the server's
  // clock, plus the test offset.
  std::string now_sql() const;

  std::string url_;
  std::string redacted_url_;
  std::size_t event_capacity_;
  std::unique_ptr<Connection> db_;  // null until open() succeeds
  bool serving_ = false;            // serve_as()
  std::chrono::milliseconds clock_offset_{0};
  std::string node_name_;  // set_node_name()
  // Nodes whose heartbeat this store has recorded: the first one also
  // records when the node started.
  std::set<std::string, std::less<>> announced_;
};

}  // namespace haul::store::postgres
