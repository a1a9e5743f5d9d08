// Claims, leases and fencing for several nodes sharing one queue (issue 15,
// docs/design/cluster.md): before a node starts a job it claims it, which
// makes it the job's owner until its lease expires; a heartbeat renews the
// leases of the jobs it runs; a job whose owner died (its lease lapsed) is
// claimed by another node with a higher token, and every write of a claimed
// job carries that token (store::Fence) so the old owner's late writes are
// refused. Only a store shared by nodes (PostgreSQL) implements it; a sole
// node (SQLite, memory) owns every job and needs none of this.
//
// Every time here is the database server's clock, in ms since the epoch:
// one clock for all nodes, so a node whose own clock is off can neither
// expire another's lease early nor keep its own alive too long.
//
// Threading: like the JobStore implementing it, one thread at a time (the DB
// worker); several objects, on one or several nodes, may share a database.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace haul::store {

// A job a node now holds: written with Fence{job_id, node, token}.
struct Claim {
  std::string job_id;
  std::int64_t token = 0;             // the job's fencing epoch: +1 on every claim
  std::int64_t lease_expires_ms = 0;  // database clock
  // The job was running under another lease that lapsed (its node died or
  // lost the database): the claimer takes the run over rather than starts it.
  bool takeover = false;
  friend bool operator==(const Claim&, const Claim&) = default;
};

struct ClaimRequest {
  std::string node;  // this node's name: not empty, not "any"
  std::size_t limit = 1;
  // At most this many of them local (target "local"): the node's free
  // local slots. Instance jobs count against their instance's max_parallel.
  std::size_t local_limit = std::numeric_limits<std::size_t>::max();
  std::chrono::milliseconds lease{15000};  // > 0
  // --max-per-host: local jobs holding a live lease per source host
  // (jobs.host, written through WriteBatch::hosts), counted across every
  // node; 0 = no limit. Jobs without a host ('') are never limited. Holds
  // only while every node claiming local jobs of the queue passes it: a
  // claim without it neither counts nor waits for the others.
  std::size_t max_per_host = 0;
};

// A row of the nodes table, as the database sees it now.
struct NodeInfo {
  std::string name;
  std::int64_t started_ms = 0;    // its first heartbeat since it (re)started
  std::int64_t heartbeat_ms = 0;  // its last one
  std::chrono::milliseconds since_heartbeat{0};
  std::size_t jobs_held = 0;  // live leases
  friend bool operator==(const NodeInfo&, const NodeInfo&) = default;
};

class QueueClaims {
 public:
  virtual ~QueueClaims() = default;

  // Claims up to `limit` startable jobs for `node`, best first (priority
  // high to low, then seq): queued or retrying and due (no next_attempt_at,
  // or not after now), or running without a live lease (takeover); whose
  // node is '', "any" or `node`; and not held by a live lease of anyone.
  // Each claimed job gets owner = node, its lease until now + lease, and its
  // token + 1. An instance job (target other than "local") is claimed only
  // while fewer than the instance's max_parallel jobs of that target hold a
  // live lease, counted across every node; with max_per_host, a local job
  // only while fewer than max_per_host local jobs of its host do (and at
  // most that many of one host in one claim). Nodes claiming at once get
  // different jobs. Errors: kInvalidArgument (an empty or reserved node
  // name, a lease <= 0), and the store's (kInternal when not open,
  // kUnavailable).
  virtual Result<std::vector<Claim>> claim(const ClaimRequest& request) = 0;

  // The heartbeat: extends to now + lease every live lease `node` holds on
  // a job still queued, running or retrying (one that finished or paused
  // lapses by itself), and records the heartbeat in the nodes table.
  // Returns how many leases were renewed. Errors: as claim().
  virtual Result<std::size_t> renew(const std::string& node, std::chrono::milliseconds lease) = 0;

  // Gives job `job_id` back (no owner, no lease) if `node` still holds it
  // with `token`; the token stays, so the next claim's is higher still.
  // Returns whether it did. Errors: the store's.
  virtual Result<bool> release(const std::string& node, const std::string& job_id,
                               std::int64_t token) = 0;

  // `node` starts again: the leases it held before (nobody renews them
  // now) lapse at once, so its old runs are taken over by the next claim,
  // its own or another node's, instead of after the lease. Returns how many
  // lapsed. Errors: as claim().
  virtual Result<std::size_t> abandon(const std::string& node) = 0;

  // Every node that ever sent a heartbeat, by name. Errors: the store's.
  virtual Result<std::vector<NodeInfo>> nodes() = 0;
};

}  // namespace haul::store
