// PostgresJobStore's QueueClaims (store/queue_claims.hpp) and the fences its
// apply() checks: the SQL of claims, leases and fencing for nodes sharing
// one queue (docs/design/cluster.md, steps 1-3).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/guarded.hpp"
#include "store/postgres/connection.hpp"
#include "store/postgres/job_rows.hpp"
#include "store/postgres/postgres_job_store.hpp"

namespace haul::store::postgres {
namespace {

constexpr std::string_view kClaim = "claim jobs in";
constexpr std::string_view kWrite = "write to database";
constexpr std::string_view kRead = "read database";

// The class half of the two-key advisory locks taken per instance target
// (the other half is hashtext(target)). Two-key locks never collide with the
// one-key ones (migrations, writers, the sole node). ASCII "haui".
constexpr int kInstanceLockClass = 0x68617569;
// The class of the one lock (key 0) claims with a per-host limit take for
// their local lane: each host's live leases are counted, and its free
// slots taken, by one such claim at a time, so two nodes cannot both take a
// host's last slot. Always taken before the instance locks, so a claim
// holding it never waits in a circle with one holding an instance's.
// ASCII "hauh".
constexpr int kHostLockClass = 0x68617568;
constexpr int kHostLockKey = 0;

// How many claimable local jobs a per-host claim locks to choose from: its
// lane's limit several times over, so the jobs of hosts with few free slots
// rarely crowd out the others. When they do the claim comes back short, and
// the next one, those hosts now full and left out, takes the others.
constexpr std::int64_t kHostCandidatesPerSlot = 4;
constexpr std::int64_t kHostCandidatesExtra = 16;

// Fenced rows locked per statement, as the writes' chunks.
constexpr std::size_t kFencesPerStatement = 1000;

// Node names with a meaning of their own in jobs.node: '' (any node) and
// "any" (a shared filesystem). A node called so would claim every local job.
Result<void> check_node(const std::string& node) {
  if (node.empty() || node == "any") {
    return fail(
        ErrorCode::kInvalidArgument,
        "a node's name must not be '' or 'any', which jobs.node reserves (got '" + node + "')");
  }
  return {};
}

Result<void> check_lease(std::chrono::milliseconds lease) {
  if (lease.count() > 0) return {};
  return fail(ErrorCode::kInvalidArgument,
              "a lease must be longer than 0 ms (got " + std::to_string(lease.count()) + ")");
}

// Which jobs a claim may take, with $1 = the node and `now` the SQL for
// now (ms): the first line repeats the jobs_claimable index's predicate so
// the planner uses it. A running job without a live lease is a dead
// node's: taken over.
std::string claimable(std::string_view now) {
  const std::string at(now);
  return "state IN ('queued', 'retrying', 'running') "
         "AND (state = 'running' OR next_attempt_at IS NULL OR next_attempt_at <= " +
         at +
         ") AND node IN ('', 'any', $1) AND (owner IS NULL OR coalesce(lease_expires_at, 0) <= " +
         at + ")";
}

// Best first; ties by the id's bytes, as everywhere else in this store.
constexpr std::string_view kClaimOrder = "priority DESC, seq, id COLLATE \"C\"";

struct Lane {
  std::string target;  // "local", or an instance's id
  std::int64_t limit = 0;
  // The local lane under ClaimRequest::max_per_host (0 = none): at most
  // this many local jobs of one host with a live lease.
  std::int64_t per_host = 0;
};

// A lane under a per-host limit, named `name`, with the parameters of its
// target, limit, per-host limit and candidate count. Three steps, as
// FOR UPDATE cannot share a SELECT with a window function: lock the best
// `candidates` claimable jobs, leaving out those of hosts already at the
// limit; number each host's among them best first; keep those within the
// host's free slots (every job without a host), best first, up to the
// lane's limit. The live leases are counted once, in `<name>_live`, on the
// database's clock ($2) like everything in the claim.
std::string per_host_lane_sql(const std::string& name, const std::string& target,
                              const std::string& limit, const std::string& per_host,
                              const std::string& candidates) {
  const std::string live = name + "_live";
  const std::string order(kClaimOrder);
  return live + " AS (SELECT host, count(*) AS n FROM jobs WHERE target = " + target +
         "::text AND host <> '' AND owner IS NOT NULL AND lease_expires_at > $2::bigint "
         "GROUP BY host), " +
         name +
         "_locked AS MATERIALIZED (SELECT id, priority, seq, host FROM jobs WHERE target = " +
         target + "::text AND " + claimable("$2::bigint") +
         " AND (host = '' OR host NOT IN (SELECT host FROM " + live + " WHERE n >= " + per_host +
         "::bigint)) ORDER BY " + order + " LIMIT " + candidates +
         "::bigint FOR UPDATE SKIP LOCKED), " + name +
         "_ranked AS (SELECT id, priority, seq, host, row_number() OVER (PARTITION BY host ORDER "
         "BY " +
         order + ") AS rank FROM " + name + "_locked), " + name +
         " AS MATERIALIZED (SELECT r.id, r.priority, r.seq FROM " + name + "_ranked r LEFT JOIN " +
         live + " l ON l.host = r.host WHERE r.host = '' OR r.rank <= " + per_host +
         "::bigint - coalesce(l.n, 0) ORDER BY r.priority DESC, r.seq, r.id COLLATE \"C\" LIMIT " +
         limit + "::bigint), ";
}

// The claim itself, one statement: each lane picks its best claimable jobs
// up to its limit, skipping rows another node is claiming or writing (SKIP
// LOCKED: nodes claiming at once get different jobs and never wait on each
// other); the best `limit` of all lanes get the lease. MATERIALIZED keeps
// each lane's LIMIT where it is: Oban notes that a plan folding the CTE into
// the UPDATE can lock and update more rows than the LIMIT. Parameters: $1
// node, $2 now, $3 limit, $4 lease ms, then each lane's target and limit,
// then, for a lane with a per-host limit (one at most), that limit and its
// candidate count.
std::string claim_sql(const std::vector<Lane>& lanes) {
  std::string sql = "WITH ";
  std::string all;
  const std::size_t extra = 5 + 2 * lanes.size();  // the first per-host parameter
  for (std::size_t i = 0; i < lanes.size(); ++i) {
    const std::string name = "lane" + std::to_string(i);
    const std::string target = "$" + std::to_string(5 + 2 * i);
    const std::string limit = "$" + std::to_string(6 + 2 * i);
    if (lanes[i].per_host > 0) {
      sql += per_host_lane_sql(name, target, limit, "$" + std::to_string(extra),
                               "$" + std::to_string(extra + 1));
    } else {
      sql += name +
             " AS MATERIALIZED (SELECT id, priority, seq FROM jobs WHERE target = " + target +
             "::text AND " + claimable("$2::bigint") + " ORDER BY " + std::string(kClaimOrder) +
             " LIMIT " + limit + "::bigint FOR UPDATE SKIP LOCKED), ";
    }
    all += (i == 0 ? "SELECT * FROM " : " UNION ALL SELECT * FROM ") + name;
  }
  sql += "picked AS (SELECT id FROM (" + all + ") c ORDER BY " + std::string(kClaimOrder) +
         " LIMIT $3::bigint) "
         "UPDATE jobs j SET owner = $1, lease_expires_at = $2::bigint + $4::bigint, "
         "lease_token = j.lease_token + 1 FROM picked WHERE j.id = picked.id "
         "RETURNING j.id, j.lease_token, j.lease_expires_at, j.state = 'running', j.priority, "
         "j.seq";
  return sql;
}

// Runs `body` (which returns Result<T>) in a READ COMMITTED transaction: each
// statement sees what others committed before it began, which claim() needs
// (an instance's live leases are counted after its lock is taken, so they
// include those of the claim that held the lock before).
template <class F>
auto in_transaction(Connection& db, std::string_view what, const std::string& guarded_what,
                    F&& body) -> decltype(body()) {
  if (auto begun = db.exec_script("BEGIN ISOLATION LEVEL READ COMMITTED", what); !begun) {
    db.roll_back();
    return fail(begun.error());
  }
  auto result = guarded(guarded_what, body);
  if (!result) {
    db.roll_back();
    return result;
  }
  if (auto committed = db.exec_script("COMMIT", what); !committed) {
    db.roll_back();
    return fail(committed.error());
  }
  return result;
}

}  // namespace

std::string PostgresJobStore::now_sql() const {
  // clock_timestamp(), not now(): now() is when the transaction began, and
  // a claim may have waited for an instance's lock since.
  return "((extract(epoch FROM clock_timestamp()) * 1000)::bigint + " +
         std::to_string(clock_offset_.count()) + ")";
}

// ---- Fences -------------------------------------------------------------------

namespace {

// A fenced job's row as check_fences() reads it.
struct Holder {
  std::optional<std::string> owner;
  std::int64_t token = 0;
  bool live = false;  // owner holds a lease not yet expired (the database's clock)
};

// Why `fence` no longer holds on a job held as `holder` says, or "" when it
// holds. A node's fence holds while the node has the job with its token; a
// fence without a node while nobody holds a live lease on the job.
std::string why_fence_fails(const Fence& fence, const Holder& holder) {
  if (fence.node.empty()) {
    if (!holder.live) return "";
    return "is held by node " + holder.owner.value_or("");
  }
  if (!holder.owner) return "is no longer claimed";
  if (*holder.owner != fence.node || holder.token != fence.token) return "is held by another node";
  return "";
}

}  // namespace

Result<void> PostgresJobStore::check_fences(const std::vector<Fence>& fences) {
  Connection& db = *db_;
  for (std::size_t first = 0; first < fences.size(); first += kFencesPerStatement) {
    const std::size_t count = std::min(kFencesPerStatement, fences.size() - first);
    Params params;
    for (std::size_t i = first; i < first + count; ++i) params.add(fences[i].job_id);
    // FOR UPDATE: until this batch commits no claim can take these jobs
    // over (a claim skips locked rows), so what is checked here still holds
    // when the writes land. A node's fence needs owner and token alone, with
    // no look at the clock: a lease that expired but that nobody took over
    // yet is still this node's to write. A fence without a node needs the
    // clock: an expired lease is nobody's.
    auto rows = db.exec(
        "SELECT id, owner, lease_token, owner IS NOT NULL AND coalesce(lease_expires_at, 0) > " +
            now_sql() + " FROM jobs WHERE id IN (SELECT k FROM (VALUES " +
            parameter_rows(count, 1, "::text") + ") AS v (k)) FOR UPDATE",
        params, kWrite);
    if (!rows) return fail(rows.error());
    std::unordered_map<std::string, Holder> holders;
    for (int row = 0; row < rows->size(); ++row) {
      const Row r(*rows, row);
      holders.emplace(r.text(0), Holder{r.optional_text(1), r.int64(2), r.text(3) == "t"});
    }
    for (std::size_t i = first; i < first + count; ++i) {
      const Fence& fence = fences[i];
      const auto holder = holders.find(fence.job_id);
      const std::string why =
          holder == holders.end() ? "no longer exists" : why_fence_fails(fence, holder->second);
      if (why.empty()) continue;
      return fail(ErrorCode::kConflict, "lease lost: job " + fence.job_id + " " + why);
    }
  }
  return {};
}

// ---- Claims -------------------------------------------------------------------

Result<std::vector<Claim>> PostgresJobStore::claim_jobs(const ClaimRequest& request) {
  Connection& db = *db_;
  const auto limit = static_cast<std::int64_t>(
      std::min<std::size_t>(request.limit, std::numeric_limits<std::int64_t>::max()));

  // The instances with claimable jobs, and now: the claim's clock when no
  // instance lock has to be waited for.
  Params scan;
  scan.add(request.node);
  auto found = db.exec("WITH clock AS (SELECT " + now_sql() +
                           " AS ms) SELECT clock.ms, t.target FROM clock LEFT JOIN LATERAL (SELECT "
                           "DISTINCT target FROM jobs WHERE target <> 'local' AND " +
                           claimable("clock.ms") + ") AS t ON true",
                       scan, kClaim);
  if (!found) return fail(found.error());
  std::int64_t now = found->int64(0, 0);
  std::vector<std::string> targets;
  for (int row = 0; row < found->size(); ++row) {
    if (!found->is_null(row, 1)) targets.push_back(found->text(row, 1));
  }

  // The local lane takes no more than the node's free local slots; with
  // none it is left out, and its jobs stay for the nodes that have some.
  std::vector<Lane> lanes;
  const auto local_limit = static_cast<std::int64_t>(
      std::min<std::size_t>(request.local_limit, std::numeric_limits<std::int64_t>::max()));
  const auto per_host = static_cast<std::int64_t>(
      std::min<std::size_t>(request.max_per_host, std::numeric_limits<std::int64_t>::max()));
  if (local_limit > 0) lanes.push_back({"local", std::min(limit, local_limit), per_host});
  if (local_limit > 0 && per_host > 0) {
    // Before the instance locks (see kHostLockClass). Held until the
    // commit: whoever counts the hosts' leases next sees this claim's.
    if (auto locked = db.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kHostLockClass) +
                                  ", " + std::to_string(kHostLockKey) + ")",
                              Params{}, kClaim);
        !locked) {
      return fail(locked.error());
    }
    // Now again: the lock may have taken a while (the instances' count below
    // reads it again anyway).
    if (targets.empty()) {
      auto clock = db.exec("SELECT " + now_sql(), Params{}, kClaim);
      if (!clock) return fail(clock.error());
      now = clock->int64(0, 0);
    }
  }
  if (!targets.empty()) {
    // One lock per target, taken in the order of their keys by every node,
    // so two claims wanting the same instances never wait on each other in
    // a circle. Held until the commit: whoever counts a target's leases next
    // sees this claim's.
    Params keys;
    for (const std::string& target : targets) keys.add(target);
    if (auto locked = db.exec(
            "SELECT count(pg_advisory_xact_lock(" + std::to_string(kInstanceLockClass) +
                ", k)) FROM (SELECT DISTINCT hashtext(t) AS k FROM (VALUES " +
                parameter_rows(targets.size(), 1, "::text") + ") AS v (t) ORDER BY k) AS keys",
            keys, kClaim);
        !locked) {
      return fail(locked.error());
    }
    // Now again (the locks may have taken a while), and each instance's free
    // slots: max_parallel (1 for an instance no longer registered, as a new
    // one has) less its jobs holding a live lease, on any node.
    auto slots = db.exec("WITH clock AS (SELECT " + now_sql() +
                             " AS ms) SELECT clock.ms, v.t, coalesce((SELECT max_parallel FROM "
                             "instances WHERE id = v.t), 1) - (SELECT count(*) FROM jobs j WHERE "
                             "j.target = v.t AND j.owner IS NOT NULL AND j.lease_expires_at > "
                             "clock.ms) FROM clock, (VALUES " +
                             parameter_rows(targets.size(), 1, "::text") + ") AS v (t)",
                         keys, kClaim);
    if (!slots) return fail(slots.error());
    for (int row = 0; row < slots->size(); ++row) {
      now = slots->int64(row, 0);
      if (const std::int64_t free = slots->int64(row, 2); free > 0)
        lanes.push_back({slots->text(row, 1), std::min(free, limit)});
    }
  }

  if (lanes.empty()) return std::vector<Claim>{};  // nothing the node could take
  Params params;
  params.add(request.node);
  params.add(now);
  params.add(limit);
  params.add(static_cast<std::int64_t>(request.lease.count()));
  for (const Lane& lane : lanes) {
    params.add(lane.target);
    params.add(lane.limit);
  }
  for (const Lane& lane : lanes) {
    if (lane.per_host == 0) continue;
    params.add(lane.per_host);
    // Saturating: a limit near 2^63 asks for every job anyway.
    const std::int64_t most = std::numeric_limits<std::int64_t>::max();
    params.add(lane.limit >= (most - kHostCandidatesExtra) / kHostCandidatesPerSlot
                   ? most
                   : lane.limit * kHostCandidatesPerSlot + kHostCandidatesExtra);
  }
  auto claimed = db.exec(claim_sql(lanes), params, kClaim);
  if (!claimed) return fail(claimed.error());

  // RETURNING comes in no particular order; the caller starts the best first.
  struct Ranked {
    Claim claim;
    std::int64_t priority;
    std::int64_t seq;
  };
  std::vector<Ranked> ranked;
  ranked.reserve(static_cast<std::size_t>(claimed->size()));
  for (int row = 0; row < claimed->size(); ++row) {
    const Row r(*claimed, row);
    ranked.push_back(
        {Claim{r.text(0), r.int64(1), r.int64(2), r.text(3) == "t"}, r.int64(4), r.int64(5)});
  }
  std::sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
    if (a.priority != b.priority) return a.priority > b.priority;
    if (a.seq != b.seq) return a.seq < b.seq;
    return a.claim.job_id < b.claim.job_id;
  });
  std::vector<Claim> claims;
  claims.reserve(ranked.size());
  for (Ranked& entry : ranked) claims.push_back(std::move(entry.claim));
  return claims;
}

Result<std::vector<Claim>> PostgresJobStore::claim(const ClaimRequest& request) {
  if (auto open = check_open(); !open) return fail(open.error());
  if (auto valid = check_node(request.node); !valid) return fail(valid.error());
  if (auto valid = check_lease(request.lease); !valid) return fail(valid.error());
  if (request.limit == 0) return std::vector<Claim>{};
  return in_transaction(*db_, kClaim, "cannot claim jobs in " + redacted_url_,
                        [&] { return claim_jobs(request); });
}

// ---- Leases -------------------------------------------------------------------

Result<std::size_t> PostgresJobStore::renew(const std::string& node,
                                            std::chrono::milliseconds lease) {
  if (auto open = check_open(); !open) return fail(open.error());
  if (auto valid = check_node(node); !valid) return fail(valid.error());
  if (auto valid = check_lease(lease); !valid) return fail(valid.error());
  return guarded("cannot renew leases in " + redacted_url_, [&]() -> Result<std::size_t> {
    const bool first = !announced_.contains(node);
    Params params;
    params.add(node);
    params.add(static_cast<std::int64_t>(lease.count()));
    params.add(first ? "t" : "f");
    // One statement, so the heartbeat and the leases move together. Only a
    // lease still live is extended: one that lapsed may be another node's
    // by now, and the job's row says so (a claim changed its owner) only
    // once that claim commits; until then the claim holds the row and this
    // UPDATE waits for it, then sees the new owner and leaves it.
    auto renewed = db_->exec(
        "WITH clock AS (SELECT " + now_sql() +
            " AS ms), "
            "renewed AS (UPDATE jobs SET lease_expires_at = (SELECT ms FROM clock) + $2::bigint "
            "WHERE owner = $1 AND lease_expires_at > (SELECT ms FROM clock) "
            "AND state IN ('queued', 'running', 'retrying') RETURNING 1), "
            "beat AS (INSERT INTO nodes (name, started_at, heartbeat_at) SELECT $1, ms, ms FROM "
            "clock ON CONFLICT (name) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at, "
            "started_at = CASE WHEN $3::boolean THEN EXCLUDED.started_at ELSE nodes.started_at "
            "END) "
            "SELECT count(*) FROM renewed",
        params, kWrite);
    if (!renewed) return fail(renewed.error());
    announced_.insert(node);
    return static_cast<std::size_t>(renewed->int64(0, 0));
  });
}

Result<bool> PostgresJobStore::release(const std::string& node, const std::string& job_id,
                                       std::int64_t token) {
  if (auto open = check_open(); !open) return fail(open.error());
  return guarded("cannot release a job in " + redacted_url_, [&]() -> Result<bool> {
    Params params;
    params.add(job_id);
    params.add(node);
    params.add(token);
    auto released = db_->exec(
        "UPDATE jobs SET owner = NULL, lease_expires_at = NULL "
        "WHERE id = $1 AND owner = $2 AND lease_token = $3::bigint",
        params, kWrite);
    if (!released) return fail(released.error());
    return released->affected() == 1;
  });
}

Result<std::size_t> PostgresJobStore::abandon(const std::string& node) {
  if (auto open = check_open(); !open) return fail(open.error());
  if (auto valid = check_node(node); !valid) return fail(valid.error());
  return guarded("cannot give up leases in " + redacted_url_, [&]() -> Result<std::size_t> {
    Params params;
    params.add(node);
    // Lapsed, not released: a claim of a running job whose lease lapsed is
    // a takeover, which attaches to an instance's command still running.
    auto lapsed = db_->exec("WITH clock AS (SELECT " + now_sql() +
                                " AS ms) UPDATE jobs SET lease_expires_at = (SELECT ms FROM clock) "
                                "WHERE owner = $1 AND lease_expires_at > (SELECT ms FROM clock)",
                            params, kWrite);
    if (!lapsed) return fail(lapsed.error());
    return static_cast<std::size_t>(lapsed->affected());
  });
}

Result<std::vector<NodeInfo>> PostgresJobStore::nodes() {
  if (auto open = check_open(); !open) return fail(open.error());
  return guarded("cannot read database " + redacted_url_, [&]() -> Result<std::vector<NodeInfo>> {
    auto rows = db_->exec("WITH clock AS (SELECT " + now_sql() +
                              " AS ms) SELECT n.name, n.started_at, n.heartbeat_at, "
                              "clock.ms - n.heartbeat_at, (SELECT count(*) FROM jobs j WHERE "
                              "j.owner = n.name AND j.lease_expires_at > clock.ms) "
                              "FROM nodes n, clock ORDER BY n.name COLLATE \"C\"",
                          Params{}, kRead);
    if (!rows) return fail(rows.error());
    std::vector<NodeInfo> nodes;
    nodes.reserve(static_cast<std::size_t>(rows->size()));
    for (int row = 0; row < rows->size(); ++row) {
      const Row r(*rows, row);
      nodes.push_back(NodeInfo{r.text(0), r.int64(1), r.int64(2),
                               std::chrono::milliseconds(r.int64(3)),
                               static_cast<std::size_t>(r.int64(4))});
    }
    return nodes;
  });
}

}  // namespace haul::store::postgres
