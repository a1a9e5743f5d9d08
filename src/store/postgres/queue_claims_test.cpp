// PostgresJobStore's claims, leases and fencing (store/queue_claims.hpp)
// against a throwaway PostgreSQL 15 cluster, a fresh database per test, each
// node its own store (its own connection) as on separate machines: nodes
// claiming at once never get the same job, claims go best first and only to
// startable jobs of the node, a lapsed lease is taken over and its old
// owner's writes refused, instance slots hold across nodes, and heartbeats
// land in the nodes table. Leases lapse by moving a node's view of the
// database clock (set_clock_offset_for_tests), never by sleeping.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <latch>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/job_store_test_support.hpp"
#include "store/postgres/postgres_job_store.hpp"
#include "store/postgres/postgres_test_support.hpp"
#include "support/postgres_cluster.hpp"

namespace haul::store::postgres {
namespace {

using namespace test_support;  // NOLINT(google-build-using-namespace): test helpers
using haul::testing::PostgresCluster;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr milliseconds kLease = seconds(10);

class QueueClaimsTest : public PostgresDatabaseTest {
 protected:
  std::unique_ptr<PostgresJobStore> open_store() {
    return opened(std::make_unique<PostgresJobStore>(cluster_->url(database_)));
  }
  static std::vector<Claim> claim_ok(QueueClaims& store, const std::string& node, std::size_t limit,
                                     milliseconds lease = kLease) {
    auto claims = store.claim(ClaimRequest{.node = node, .limit = limit, .lease = lease});
    EXPECT_TRUE(claims) << claims.error().message;
    return claims ? *claims : std::vector<Claim>{};
  }
  static std::vector<std::string> ids_of(const std::vector<Claim>& claims) {
    std::vector<std::string> ids;
    ids.reserve(claims.size());
    for (const Claim& claim : claims) ids.push_back(claim.job_id);
    return ids;
  }
  static std::vector<Claim> claim_per_host(QueueClaims& store, const std::string& node,
                                           std::size_t limit, std::size_t max_per_host) {
    auto claims = store.claim(
        ClaimRequest{.node = node, .limit = limit, .lease = kLease, .max_per_host = max_per_host});
    EXPECT_TRUE(claims) << claims.error().message;
    return claims ? *claims : std::vector<Claim>{};
  }
  // "host=n,..." of the local jobs holding a live lease, by the database's
  // own clock (no test offset).
  std::string live_per_host() const {
    return query(
        "SELECT coalesce(string_agg(host || '=' || n, ',' ORDER BY host COLLATE \"C\"), '') "
        "FROM (SELECT host, count(*) AS n FROM jobs WHERE target = 'local' AND host <> '' AND "
        "owner IS NOT NULL AND lease_expires_at > (extract(epoch FROM clock_timestamp()) * "
        "1000)::bigint GROUP BY host) AS live");
  }
  // `node` starts `job` under the claim's `token`: the runner's fenced write.
  static void start_run(JobStore& store, Job& job, const std::string& node, std::int64_t token) {
    job.state = JobState::kRunning;
    apply_ok(store, WriteBatch{.upserts = {job}, .fences = {{job.id, node, token}}});
  }
  std::string job_state(const std::string& id) const {
    return query("SELECT state FROM jobs WHERE id = '" + id + "'");
  }
  // "owner/token" of a job as the table holds it.
  std::string holder(const std::string& id) const {
    return query("SELECT coalesce(owner, '-') || '/' || lease_token FROM jobs WHERE id = '" + id +
                 "'");
  }
};

std::int64_t wall_ms() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Job instance_job(std::string id, std::int64_t seq, std::string target) {
  Job job = make_job(std::move(id), seq);
  job.target = std::move(target);
  return job;
}

// Adds `count` local jobs of `host` to `batch`, "<prefix>-0" on, from seq `seq`.
void add_host_jobs(WriteBatch& batch, const std::string& prefix, int count, std::int64_t seq,
                   const std::string& host) {
  for (int i = 0; i < count; ++i) {
    const std::string id = prefix + "-" + std::to_string(i);
    batch.upserts.push_back(make_job(id, seq + i));
    batch.hosts.push_back({id, host});
  }
}

// ---- Claiming -------------------------------------------------------------------

TEST_F(QueueClaimsTest, NodesClaimingAtOnceTakeEveryJobExactlyOnce) {
  constexpr int kJobs = 200;
  constexpr int kNodes = 3;
  auto writer = open_store();
  WriteBatch batch;
  for (int i = 0; i < kJobs; ++i) {
    Job job = make_job("job-" + std::to_string(i), i + 1);
    job.priority = i % 4;
    batch.upserts.push_back(job);
  }
  apply_ok(*writer, batch);
  query("UPDATE jobs SET node = 'any' WHERE seq % 3 = 0");

  std::vector<std::unique_ptr<PostgresJobStore>> stores;
  stores.reserve(kNodes);
  for (int i = 0; i < kNodes; ++i) stores.push_back(open_store());
  std::vector<std::vector<Claim>> claimed(kNodes);
  std::vector<std::string> failures(kNodes);
  std::latch go(kNodes);
  std::vector<std::thread> nodes;
  nodes.reserve(kNodes);
  for (int n = 0; n < kNodes; ++n) {
    nodes.emplace_back([&, n] {
      const std::string name = "node-" + std::to_string(n);
      go.arrive_and_wait();
      // Until a claim finds nothing: a claim skips only rows another one is
      // taking, so the last node to stop found the queue empty.
      for (;;) {
        auto claims =
            stores[n]->claim(ClaimRequest{.node = name, .limit = 3, .lease = seconds(60)});
        if (!claims) {
          failures[n] = claims.error().message;
          return;
        }
        if (claims->empty()) return;
        claimed[n].insert(claimed[n].end(), claims->begin(), claims->end());
      }
    });
  }
  for (std::thread& node : nodes) node.join();

  std::map<std::string, int> times_claimed;
  std::map<std::string, std::string> holders;  // id -> "owner/token", as the table should say
  for (int n = 0; n < kNodes; ++n) {
    EXPECT_EQ(failures[n], "");
    for (const Claim& claim : claimed[n]) {
      ++times_claimed[claim.job_id];
      EXPECT_EQ(claim.token, 1) << claim.job_id;
      holders[claim.job_id] = "node-" + std::to_string(n) + "/1";
    }
  }
  EXPECT_EQ(times_claimed.size(), static_cast<std::size_t>(kJobs));
  for (const auto& [id, times] : times_claimed) EXPECT_EQ(times, 1) << id;
  std::string expected;
  for (const auto& [id, held] : holders)
    expected += (expected.empty() ? "" : ",") + id + "=" + held;
  EXPECT_EQ(query("SELECT string_agg(id || '=' || coalesce(owner, '-') || '/' || lease_token, ',' "
                  "ORDER BY id COLLATE \"C\") FROM jobs"),
            expected);
  for (int n = 0; n < kNodes; ++n)
    std::cout << "node-" << n << " claimed " << claimed[n].size() << " jobs\n";
}

TEST_F(QueueClaimsTest, ClaimsTheBestStartableJobsFirst) {
  auto store = open_store();
  const std::int64_t now = wall_ms();
  Job urgent = make_job("urgent", 9);
  urgent.priority = 5;
  Job waiting = make_job("retry-later", 2, JobState::kRetrying);
  waiting.next_attempt_at = at_ms(now + 3'600'000);
  Job due = make_job("retry-due", 3, JobState::kRetrying);
  due.next_attempt_at = at_ms(now - 1000);
  Job low = make_job("low", 1);
  low.priority = -1;
  apply_ok(*store, WriteBatch{{make_job("first", 4), urgent, waiting, due, low,
                               make_job("second", 5), make_job("done", 6, JobState::kCompleted),
                               make_job("failed", 7, JobState::kFailed),
                               make_job("cancelled", 8, JobState::kCancelled),
                               make_job("paused", 10, JobState::kPaused)},
                              {},
                              {}});

  EXPECT_EQ(ids_of(claim_ok(*store, "a", 2)), (std::vector<std::string>{"urgent", "retry-due"}));
  EXPECT_EQ(ids_of(claim_ok(*store, "a", 10)),
            (std::vector<std::string>{"first", "second", "low"}));
  EXPECT_TRUE(claim_ok(*store, "b", 10).empty()) << "held, finished, paused or not due";

  // Once due, the retry is claimed.
  waiting.next_attempt_at = at_ms(now - 1);
  apply_ok(*store, WriteBatch{{waiting}, {}, {}});
  EXPECT_EQ(ids_of(claim_ok(*store, "b", 10)), (std::vector<std::string>{"retry-later"}));
}

TEST_F(QueueClaimsTest, ALocalJobIsClaimedOnlyByItsNode) {
  auto a = open_store();
  auto b = open_store();
  apply_ok(*a, WriteBatch{{make_job("on-a", 1), make_job("anywhere", 2), make_job("shared", 3),
                           make_job("on-c", 4)},
                          {},
                          {}});
  query("UPDATE jobs SET node = 'a' WHERE id = 'on-a'");
  query("UPDATE jobs SET node = 'any' WHERE id = 'shared'");
  query("UPDATE jobs SET node = 'c' WHERE id = 'on-c'");

  EXPECT_EQ(ids_of(claim_ok(*b, "b", 10)), (std::vector<std::string>{"anywhere", "shared"}));
  EXPECT_EQ(ids_of(claim_ok(*a, "a", 10)), (std::vector<std::string>{"on-a"}));
  EXPECT_EQ(holder("on-c"), "-/0") << "its node is not here: nobody takes it";
}

TEST_F(QueueClaimsTest, RefusesReservedNodeNamesAndEmptyLeases) {
  auto store = open_store();
  apply_ok(*store, WriteBatch{{make_job("a", 1)}, {}, {}});
  for (const char* node : {"", "any"}) {
    auto claims = store->claim(ClaimRequest{.node = node, .limit = 1, .lease = kLease});
    ASSERT_FALSE(claims) << node;
    EXPECT_EQ(claims.error().code, ErrorCode::kInvalidArgument);
    EXPECT_FALSE(store->renew(node, kLease)) << node;
  }
  auto claims = store->claim(ClaimRequest{.node = "a", .limit = 1, .lease = milliseconds(0)});
  ASSERT_FALSE(claims);
  EXPECT_EQ(claims.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(claim_ok(*store, "a", 0).empty());
  EXPECT_EQ(holder("a"), "-/0");
}

// ---- Leases and fencing -----------------------------------------------------------

TEST_F(QueueClaimsTest, ALapsedLeaseIsTakenOverAndTheOldOwnersWritesAreRefused) {
  auto a = open_store();
  auto b = open_store();
  Job job = make_job("j", 1);
  apply_ok(*a, WriteBatch{{job}, {}, {}});

  const std::vector<Claim> first = claim_ok(*a, "a", 1);
  ASSERT_EQ(ids_of(first), (std::vector<std::string>{"j"}));
  EXPECT_EQ(first[0].token, 1);
  EXPECT_FALSE(first[0].takeover);
  // A starts it: a fenced write, which leaves the lease columns alone.
  start_run(*a, job, "a", 1);
  EXPECT_EQ(holder("j"), "a/1");
  EXPECT_TRUE(claim_ok(*b, "b", 1).empty()) << "A's lease is live";

  // A stops renewing (it died, or lost the network): past its lease, B takes
  // the run over.
  b->set_clock_offset_for_tests(kLease + seconds(1));
  const std::vector<Claim> second = claim_ok(*b, "b", 1);
  ASSERT_EQ(ids_of(second), (std::vector<std::string>{"j"}));
  EXPECT_EQ(second[0].token, 2);
  EXPECT_TRUE(second[0].takeover);
  EXPECT_GT(second[0].lease_expires_ms, first[0].lease_expires_ms + kLease.count());

  // A comes back and writes as if it still ran the job: refused, all of it.
  Job late = job;
  late.state = JobState::kCompleted;
  auto refused = a->apply(WriteBatch{.upserts = {late, make_job("other", 2)},
                                     .events = {make_event(1, "j")},
                                     .fences = {{"j", "a", 1}}});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_EQ(refused.error().message, "lease lost: job j is held by another node");
  EXPECT_EQ(job_state("j"), "running");
  EXPECT_EQ(query("SELECT count(*) FROM jobs WHERE id = 'other'"), "0");
  EXPECT_EQ(query("SELECT count(*) FROM events"), "0");
  // Fences alone are checked too; and A's renew no longer finds the job.
  auto checked = a->apply(WriteBatch{.fences = {{"j", "a", 1}}});
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code, ErrorCode::kConflict);
  auto renewed = a->renew("a", kLease);
  ASSERT_TRUE(renewed) << renewed.error().message;
  EXPECT_EQ(*renewed, 0u);

  // B's writes, with its token, go through; still B's afterwards.
  apply_ok(
      *b, WriteBatch{.upserts = {late}, .events = {make_event(1, "j")}, .fences = {{"j", "b", 2}}});
  EXPECT_EQ(job_state("j"), "completed");
  EXPECT_EQ(holder("j"), "b/2");
  // One stale fence among good ones refuses the batch.
  apply_ok(*a, WriteBatch{{make_job("k", 3)}, {}, {}});
  ASSERT_EQ(ids_of(claim_ok(*b, "b", 1)), (std::vector<std::string>{"k"}));
  auto mixed = b->apply(WriteBatch{.deletes = {"k"}, .fences = {{"k", "b", 1}, {"j", "b", 1}}});
  ASSERT_FALSE(mixed);
  EXPECT_EQ(mixed.error().code, ErrorCode::kConflict);
  EXPECT_EQ(query("SELECT count(*) FROM jobs WHERE id = 'k'"), "1");
}

TEST_F(QueueClaimsTest, ARenewedLeaseIsNotTakenOver) {
  auto a = open_store();
  auto c = open_store();
  auto b = open_store();
  apply_ok(*a, WriteBatch{{make_job("renewed", 1), make_job("lapsed", 2)}, {}, {}});
  ASSERT_EQ(ids_of(claim_ok(*a, "a", 1)), (std::vector<std::string>{"renewed"}));
  ASSERT_EQ(ids_of(claim_ok(*c, "c", 1)), (std::vector<std::string>{"lapsed"}));

  // A's heartbeat, 8 s in: its lease now ends at 18 s; C sends none.
  a->set_clock_offset_for_tests(seconds(8));
  auto renewed = a->renew("a", kLease);
  ASSERT_TRUE(renewed) << renewed.error().message;
  EXPECT_EQ(*renewed, 1u);
  // C's, at 15 s, is too late: a lease that lapsed is not renewed, as
  // another node may have taken the job by then.
  c->set_clock_offset_for_tests(seconds(15));
  EXPECT_EQ(*c->renew("c", kLease), 0u);
  EXPECT_EQ(holder("lapsed"), "c/1");

  b->set_clock_offset_for_tests(seconds(15));
  EXPECT_EQ(ids_of(claim_ok(*b, "b", 10)), (std::vector<std::string>{"lapsed"}));
  EXPECT_EQ(holder("renewed"), "a/1");
  b->set_clock_offset_for_tests(seconds(19));
  EXPECT_EQ(ids_of(claim_ok(*b, "b", 10)), (std::vector<std::string>{"renewed"}));
  EXPECT_EQ(holder("renewed"), "b/2");
}

TEST_F(QueueClaimsTest, ReleaseNeedsTheCurrentToken) {
  auto a = open_store();
  auto b = open_store();
  apply_ok(*a, WriteBatch{{make_job("j", 1)}, {}, {}});
  ASSERT_EQ(claim_ok(*a, "a", 1).size(), 1u);

  EXPECT_FALSE(*a->release("a", "j", 0));
  EXPECT_FALSE(*b->release("b", "j", 1)) << "not B's";
  EXPECT_FALSE(*a->release("a", "missing", 1));
  EXPECT_EQ(holder("j"), "a/1");
  EXPECT_TRUE(claim_ok(*b, "b", 1).empty());

  EXPECT_TRUE(*a->release("a", "j", 1));
  EXPECT_EQ(holder("j"), "-/1");
  const std::vector<Claim> taken = claim_ok(*b, "b", 1);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].token, 2);
  EXPECT_FALSE(*a->release("a", "j", 1)) << "A's token is stale";
  EXPECT_EQ(holder("j"), "b/2");
  // Released, a job's writes are no longer A's to make.
  auto late = a->apply(WriteBatch{.deletes = {"j"}, .fences = {{"j", "a", 1}}});
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, ErrorCode::kConflict);
}

TEST_F(QueueClaimsTest, ANodeStartingAgainAbandonsItsOldLeasesForATakeover) {
  auto before = open_store();
  auto other = open_store();
  apply_ok(*before, WriteBatch{{make_job("mine", 1), make_job("theirs", 2)}, {}, {}});
  ASSERT_EQ(ids_of(claim_ok(*before, "a", 1)), (std::vector<std::string>{"mine"}));
  ASSERT_EQ(ids_of(claim_ok(*other, "b", 1)), (std::vector<std::string>{"theirs"}));
  Job running = make_job("mine", 1);
  start_run(*before, running, "a", 1);

  // "a" restarts (a new store, no heartbeat since): its lease lapses now,
  // not in 10 s; B's stays.
  auto again = open_store();
  auto abandoned = again->abandon("a");
  ASSERT_TRUE(abandoned) << abandoned.error().message;
  EXPECT_EQ(*abandoned, 1u);
  EXPECT_EQ(*again->abandon("a"), 0u) << "nothing left to abandon";
  const std::vector<Claim> taken = claim_ok(*again, "a", 10);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].job_id, "mine");
  EXPECT_TRUE(taken[0].takeover) << "running: the run is taken over, not started afresh";
  EXPECT_EQ(taken[0].token, 2);
  EXPECT_EQ(holder("theirs"), "b/1");
  EXPECT_FALSE(again->abandon("any")) << "a reserved name";
}

// A node changing a job it does not run (pausing a queued one, say) fences
// it without a node: the write holds only while no node holds a live lease.
TEST_F(QueueClaimsTest, AFenceWithoutANodeHoldsWhileNobodyHoldsALiveLease) {
  auto a = open_store();
  auto b = open_store();
  Job job = make_job("j", 1);
  apply_ok(*b, WriteBatch{{job}, {}, {}});
  const Fence nobody{"j", "", 0};
  job.state = JobState::kPaused;
  apply_ok(*b, WriteBatch{.upserts = {job}, .fences = {nobody}});
  EXPECT_EQ(job_state("j"), "paused");

  job.state = JobState::kQueued;
  apply_ok(*b, WriteBatch{.upserts = {job}, .fences = {nobody}});
  ASSERT_EQ(ids_of(claim_ok(*a, "a", 1)), (std::vector<std::string>{"j"}));
  // A claimed it: B's write would overwrite A's run. Refused, all of it.
  Job paused = job;
  paused.state = JobState::kPaused;
  auto refused = b->apply(WriteBatch{.upserts = {paused, make_job("other", 2)},
                                     .fences = {nobody},
                                     .action_requests = {{"j", core::Action::kPause}}});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_EQ(refused.error().message, "lease lost: job j is held by node a");
  EXPECT_EQ(job_state("j"), "queued");
  EXPECT_EQ(query("SELECT count(*) FROM jobs WHERE id = 'other'"), "0");
  EXPECT_EQ(query("SELECT requested_action FROM jobs WHERE id = 'j'"), "");
  EXPECT_EQ(holder("j"), "a/1") << "the fence checked and left the lease alone";

  // A's lease lapsed (nobody renewed it): the job is nobody's again, even
  // before another node takes it over.
  b->set_clock_offset_for_tests(kLease + seconds(1));
  apply_ok(*b, WriteBatch{.upserts = {paused}, .fences = {nobody}});
  EXPECT_EQ(job_state("j"), "paused");
  b->set_clock_offset_for_tests(milliseconds(0));
  // Given back: nobody's.
  ASSERT_TRUE(*a->release("a", "j", 1));
  job.state = JobState::kQueued;
  apply_ok(*b, WriteBatch{.upserts = {job}, .fences = {nobody}});
  EXPECT_EQ(job_state("j"), "queued");
  // A job that is gone, as for a node's fence.
  auto missing = b->apply(WriteBatch{.deletes = {"j"}, .fences = {{"gone", "", 0}}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kConflict);
  EXPECT_EQ(missing.error().message, "lease lost: job gone no longer exists");
  EXPECT_EQ(query("SELECT count(*) FROM jobs WHERE id = 'j'"), "1");
}

// ---- Action requests --------------------------------------------------------------

// Another node's cancel reaches the runner through requested_action, which
// neither the runner's fenced upserts nor the claim touch.
TEST_F(QueueClaimsTest, AnActionRequestSurvivesTheRunnersWrites) {
  auto a = open_store();
  auto b = open_store();
  Job job = make_job("j", 1);
  apply_ok(*a, WriteBatch{{job}, {}, {}});
  ASSERT_EQ(claim_ok(*a, "a", 1).size(), 1u);
  apply_ok(*b, WriteBatch{.action_requests = {{"j", core::Action::kCancel}}});
  start_run(*a, job, "a", 1);
  EXPECT_EQ(query("SELECT state || '/' || requested_action FROM jobs WHERE id = 'j'"),
            "running/cancel");
  auto loaded = a->load_job("j");
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ((*loaded)->pending_action, core::Action::kCancel);
  // The runner answers it: cancelled, the request cleared, in one fenced batch.
  job.state = JobState::kCancelled;
  apply_ok(*a, WriteBatch{.upserts = {job},
                          .fences = {{"j", "a", 1}},
                          .action_requests = {{"j", std::nullopt}}});
  EXPECT_EQ(query("SELECT state || '/' || requested_action FROM jobs WHERE id = 'j'"),
            "cancelled/");
}

// ---- Instances --------------------------------------------------------------------

TEST_F(QueueClaimsTest, AnInstancesSlotsHoldAcrossNodes) {
  constexpr int kNodes = 3;
  auto writer = open_store();
  WriteBatch batch;
  batch.instance_upserts.push_back(core::Instance{"gpu", "ssh root@h", "/ui", 2, at_ms(1), {}});
  for (int i = 0; i < 5; ++i)
    batch.upserts.push_back(instance_job("gpu-" + std::to_string(i), i + 1, "gpu"));
  batch.upserts.push_back(make_job("local", 10));
  apply_ok(*writer, batch);
  std::vector<std::unique_ptr<PostgresJobStore>> stores;
  stores.reserve(kNodes);
  for (int i = 0; i < kNodes; ++i) stores.push_back(open_store());

  // Rounds of three nodes claiming at once, every slot given back between
  // them: never more than two leases on the instance.
  for (int round = 0; round < 8; ++round) {
    std::vector<std::vector<Claim>> claimed(kNodes);
    std::latch go(kNodes);
    std::vector<std::thread> nodes;
    nodes.reserve(kNodes);
    for (int n = 0; n < kNodes; ++n) {
      nodes.emplace_back([&, n] {
        go.arrive_and_wait();
        auto claims = stores[n]->claim(
            ClaimRequest{.node = "node-" + std::to_string(n), .limit = 5, .lease = kLease});
        if (claims) claimed[n] = *claims;
      });
    }
    for (std::thread& node : nodes) node.join();
    int on_gpu = 0;
    for (int n = 0; n < kNodes; ++n) {
      for (const Claim& claim : claimed[n]) {
        if (claim.job_id != "local") ++on_gpu;
        EXPECT_TRUE(*stores[n]->release("node-" + std::to_string(n), claim.job_id, claim.token));
      }
    }
    EXPECT_EQ(on_gpu, 2) << "round " << round;
  }

  // Held: nothing more until one is given back, local jobs unaffected.
  const std::vector<Claim> held = claim_ok(*stores[0], "node-0", 5);
  EXPECT_EQ(ids_of(held), (std::vector<std::string>{"gpu-0", "gpu-1", "local"}));
  EXPECT_TRUE(claim_ok(*stores[1], "node-1", 5).empty());
  ASSERT_TRUE(*stores[0]->release("node-0", "gpu-0", held[0].token));
  EXPECT_EQ(ids_of(claim_ok(*stores[1], "node-1", 5)), (std::vector<std::string>{"gpu-0"}));
  EXPECT_TRUE(claim_ok(*stores[2], "node-2", 5).empty());
  // Past the leases (nobody renewed them), the slots are free again.
  stores[2]->set_clock_offset_for_tests(kLease + seconds(1));
  EXPECT_EQ(claim_ok(*stores[2], "node-2", 5).size(), 3u) << "two on the instance and local";
}

TEST_F(QueueClaimsTest, TheLocalLaneTakesNoMoreThanTheLocalLimit) {
  auto store = open_store();
  WriteBatch batch;
  batch.instance_upserts.push_back(core::Instance{"gpu", "ssh root@h", "/ui", 3, at_ms(1), {}});
  // Local jobs first in the queue: only the limit keeps them from filling the claim.
  for (int i = 0; i < 3; ++i)
    batch.upserts.push_back(make_job("local-" + std::to_string(i), i + 1));
  for (int i = 0; i < 3; ++i)
    batch.upserts.push_back(instance_job("gpu-" + std::to_string(i), i + 10, "gpu"));
  apply_ok(*store, batch);

  auto claims =
      store->claim(ClaimRequest{.node = "a", .limit = 5, .local_limit = 1, .lease = kLease});
  ASSERT_TRUE(claims) << claims.error().message;
  EXPECT_EQ(ids_of(*claims), (std::vector<std::string>{"local-0", "gpu-0", "gpu-1", "gpu-2"}));

  // No free local slot: the local lane is left out, and with no instance
  // job left either the claim takes nothing.
  claims = store->claim(ClaimRequest{.node = "a", .limit = 5, .local_limit = 0, .lease = kLease});
  ASSERT_TRUE(claims) << claims.error().message;
  EXPECT_TRUE(claims->empty());
  EXPECT_EQ(holder("local-1"), "-/0");
  // The limit still bounds a generous local limit.
  claims = store->claim(ClaimRequest{.node = "a", .limit = 1, .local_limit = 5, .lease = kLease});
  ASSERT_TRUE(claims) << claims.error().message;
  EXPECT_EQ(ids_of(*claims), (std::vector<std::string>{"local-1"}));
}

TEST_F(QueueClaimsTest, WithoutFreeLocalSlotsOnlyInstanceJobsAreClaimed) {
  auto store = open_store();
  WriteBatch batch;
  batch.instance_upserts.push_back(core::Instance{"gpu", "ssh root@h", "/ui", 2, at_ms(1), {}});
  batch.upserts = {make_job("local", 1), instance_job("gpu-0", 2, "gpu")};
  apply_ok(*store, batch);
  auto claims =
      store->claim(ClaimRequest{.node = "a", .limit = 5, .local_limit = 0, .lease = kLease});
  ASSERT_TRUE(claims) << claims.error().message;
  EXPECT_EQ(ids_of(*claims), (std::vector<std::string>{"gpu-0"}));
  EXPECT_EQ(holder("local"), "-/0");
}

// ---- Hosts (--max-per-host) ---------------------------------------------------------

TEST_F(QueueClaimsTest, AJobsHostIsStoredApartFromItsUpserts) {
  auto a = open_store();
  Job job = make_job("j", 1);
  apply_ok(*a,
           WriteBatch{.upserts = {job, make_job("k", 2)},
                      .hosts = {{"j", "x.example"}, {"j", "a.example"}, {"gone", "b.example"}}});
  EXPECT_EQ(query("SELECT string_agg(id || '=' || host, ',' ORDER BY id) FROM jobs"),
            "j=a.example,k=")
      << "the last of a batch wins; a missing job is skipped";
  // The runner's fenced writes do not know the host and leave it.
  ASSERT_EQ(claim_ok(*a, "a", 1).size(), 1u);
  start_run(*a, job, "a", 1);
  EXPECT_EQ(query("SELECT host FROM jobs WHERE id = 'j'"), "a.example");
  // Deleted in the same batch: skipped.
  apply_ok(*a, WriteBatch{.deletes = {"k"}, .hosts = {{"k", "b.example"}}});
  EXPECT_EQ(query("SELECT string_agg(id || '=' || host, ',' ORDER BY id) FROM jobs"),
            "j=a.example");
}

TEST_F(QueueClaimsTest, APerHostLimitHoldsAcrossNodes) {
  auto a = open_store();
  auto b = open_store();
  WriteBatch batch;
  batch.instance_upserts.push_back(core::Instance{"gpu", "ssh root@h", "/ui", 1, at_ms(1), {}});
  add_host_jobs(batch, "a", 5, 1, "a.example");
  add_host_jobs(batch, "b", 2, 6, "b.example");
  batch.upserts.push_back(instance_job("gpu-0", 8, "gpu"));
  apply_ok(*a, batch);

  // Two of each host, and the instance job, which no host limit touches.
  const std::vector<Claim> held = claim_per_host(*a, "a", 10, 2);
  EXPECT_EQ(ids_of(held), (std::vector<std::string>{"a-0", "a-1", "b-0", "b-1", "gpu-0"}));
  EXPECT_EQ(live_per_host(), "a.example=2,b.example=2");
  EXPECT_TRUE(claim_per_host(*b, "b", 10, 2).empty()) << "both hosts are full, on node A";

  // A gives one of host a back: B gets exactly that slot.
  ASSERT_TRUE(*a->release("a", "a-0", held[0].token));
  EXPECT_EQ(ids_of(claim_per_host(*b, "b", 10, 2)), (std::vector<std::string>{"a-0"}));
  EXPECT_EQ(live_per_host(), "a.example=2,b.example=2");
  EXPECT_TRUE(claim_per_host(*b, "b", 10, 2).empty());
  EXPECT_TRUE(claim_per_host(*a, "a", 10, 2).empty());

  // Past the leases (nobody renewed them) the slots are free again: a
  // lapsed lease does not count.
  auto c = open_store();
  c->set_clock_offset_for_tests(kLease + seconds(1));
  EXPECT_EQ(ids_of(claim_per_host(*c, "c", 10, 2)),
            (std::vector<std::string>{"a-0", "a-1", "b-0", "b-1", "gpu-0"}));
}

TEST_F(QueueClaimsTest, AJobWithoutAHostIsNeverLimited) {
  auto a = open_store();
  auto b = open_store();
  WriteBatch batch;
  add_host_jobs(batch, "none", 3, 1, "");
  batch.upserts.push_back(make_job("unset", 4));  // no host written at all
  add_host_jobs(batch, "a", 2, 5, "a.example");
  batch.upserts.push_back(make_job("late", 7));
  apply_ok(*a, batch);

  EXPECT_EQ(ids_of(claim_per_host(*a, "a", 10, 1)),
            (std::vector<std::string>{"none-0", "none-1", "none-2", "unset", "a-0", "late"}));
  EXPECT_EQ(live_per_host(), "a.example=1");
  EXPECT_TRUE(claim_per_host(*b, "b", 10, 1).empty());
}

TEST_F(QueueClaimsTest, ZeroMaxPerHostIsNoLimit) {
  auto a = open_store();
  WriteBatch batch;
  add_host_jobs(batch, "a", 5, 1, "a.example");
  apply_ok(*a, batch);
  EXPECT_EQ(ids_of(claim_per_host(*a, "a", 10, 0)),
            (std::vector<std::string>{"a-0", "a-1", "a-2", "a-3", "a-4"}));
  EXPECT_EQ(live_per_host(), "a.example=5");
}

// A claim looks at its lane's best few jobs (its limit times 4, plus 16):
// when one host's queue fills them the claim comes back short, and the next
// one, that host now full and left out, reaches the others.
TEST_F(QueueClaimsTest, AHostWithManyJobsAheadHoldsOthersBackForOneClaim) {
  auto a = open_store();
  WriteBatch batch;
  add_host_jobs(batch, "a", 40, 1, "a.example");
  add_host_jobs(batch, "b", 1, 100, "b.example");
  apply_ok(*a, batch);
  EXPECT_EQ(ids_of(claim_per_host(*a, "a", 2, 1)), (std::vector<std::string>{"a-0"}));
  EXPECT_EQ(ids_of(claim_per_host(*a, "a", 2, 1)), (std::vector<std::string>{"b-0"}));
  EXPECT_TRUE(claim_per_host(*a, "a", 2, 1).empty());
}

TEST_F(QueueClaimsTest, NodesClaimingAtOnceNeverExceedTheLimitOfAHost) {
  constexpr int kNodes = 3;
  constexpr int kHosts = 4;
  auto writer = open_store();
  WriteBatch batch;
  for (int h = 0; h < kHosts; ++h)
    add_host_jobs(batch, "h" + std::to_string(h), 5, 1 + 5 * h,
                  "h" + std::to_string(h) + ".example");
  apply_ok(*writer, batch);
  std::vector<std::unique_ptr<PostgresJobStore>> stores;
  stores.reserve(kNodes);
  for (int i = 0; i < kNodes; ++i) stores.push_back(open_store());

  // Rounds of three nodes claiming at once: one job per host in all, never
  // two. Between rounds some leases are given back, on one node or all.
  std::vector<std::vector<Claim>> held(kNodes);
  for (int round = 0; round < 10; ++round) {
    std::vector<std::vector<Claim>> claimed(kNodes);
    std::vector<std::string> failures(kNodes);
    std::latch go(kNodes);
    std::vector<std::thread> nodes;
    nodes.reserve(kNodes);
    for (int n = 0; n < kNodes; ++n) {
      nodes.emplace_back([&, n] {
        go.arrive_and_wait();
        auto claims = stores[n]->claim(ClaimRequest{
            .node = "node-" + std::to_string(n), .limit = 3, .lease = kLease, .max_per_host = 1});
        if (claims) {
          claimed[n] = *claims;
        } else {
          failures[n] = claims.error().message;
        }
      });
    }
    for (std::thread& node : nodes) node.join();
    std::size_t live = 0;
    for (int n = 0; n < kNodes; ++n) {
      EXPECT_EQ(failures[n], "") << "round " << round;
      held[n].insert(held[n].end(), claimed[n].begin(), claimed[n].end());
      live += held[n].size();
    }
    EXPECT_EQ(live, static_cast<std::size_t>(kHosts)) << "round " << round;
    EXPECT_EQ(live_per_host(), "h0.example=1,h1.example=1,h2.example=1,h3.example=1")
        << "round " << round;
    // Odd rounds give back everything, even ones only one node's.
    for (int n = 0; n < kNodes; ++n) {
      if (round % 2 == 0 && n != round % kNodes) continue;
      for (const Claim& claim : held[n])
        EXPECT_TRUE(*stores[n]->release("node-" + std::to_string(n), claim.job_id, claim.token));
      held[n].clear();
    }
  }
}

// ---- Nodes ------------------------------------------------------------------------

TEST_F(QueueClaimsTest, RenewRecordsTheHeartbeatThatNodesLists) {
  auto a = open_store();
  auto b = open_store();
  auto nodes = a->nodes();
  ASSERT_TRUE(nodes) << nodes.error().message;
  EXPECT_TRUE(nodes->empty());
  apply_ok(*a, WriteBatch{{make_job("x", 1), make_job("y", 2), make_job("z", 3)}, {}, {}});
  ASSERT_EQ(claim_ok(*a, "a", 2).size(), 2u);

  EXPECT_EQ(*a->renew("a", kLease), 2u);
  EXPECT_EQ(*b->renew("b", kLease), 0u);
  nodes = a->nodes();
  ASSERT_TRUE(nodes) << nodes.error().message;
  ASSERT_EQ(nodes->size(), 2u);
  const NodeInfo first_a = (*nodes)[0];
  EXPECT_EQ(first_a.name, "a");
  EXPECT_EQ(first_a.jobs_held, 2u);
  EXPECT_EQ(first_a.started_ms, first_a.heartbeat_ms);
  EXPECT_GE(first_a.since_heartbeat.count(), 0);
  EXPECT_LT(first_a.since_heartbeat, seconds(5));
  EXPECT_LT(std::abs(first_a.heartbeat_ms - wall_ms()), 5000) << "the database's clock is ms";
  EXPECT_EQ((*nodes)[1].name, "b");
  EXPECT_EQ((*nodes)[1].jobs_held, 0u);

  // A later heartbeat moves heartbeat_at only.
  a->set_clock_offset_for_tests(seconds(5));
  EXPECT_EQ(*a->renew("a", kLease), 2u);
  nodes = b->nodes();
  ASSERT_TRUE(nodes && nodes->size() == 2u);
  EXPECT_EQ((*nodes)[0].started_ms, first_a.started_ms);
  EXPECT_GE((*nodes)[0].heartbeat_ms, first_a.heartbeat_ms + 5000);
  // Seen from B's clock, A's heartbeat is in the future: a negative age.
  EXPECT_LT((*nodes)[0].since_heartbeat.count(), 0);

  // Leases that lapsed are not held any more.
  b->set_clock_offset_for_tests(seconds(60));
  nodes = b->nodes();
  ASSERT_TRUE(nodes && nodes->size() == 2u);
  EXPECT_EQ((*nodes)[0].jobs_held, 0u);

  // Node a restarts (a new store): its first heartbeat is its start.
  auto restarted = open_store();
  restarted->set_clock_offset_for_tests(seconds(7));
  EXPECT_EQ(*restarted->renew("a", kLease), 2u) << "its leases were live yet";
  nodes = b->nodes();
  ASSERT_TRUE(nodes && nodes->size() == 2u);
  EXPECT_GE((*nodes)[0].started_ms, first_a.started_ms + 7000);
  EXPECT_EQ((*nodes)[0].started_ms, (*nodes)[0].heartbeat_ms);
}

}  // namespace
}  // namespace haul::store::postgres
