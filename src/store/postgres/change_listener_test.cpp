// Change notifications between nodes (job_change.hpp, change_listener.hpp)
// against a throwaway PostgreSQL 15 cluster, a fresh database per test, each
// node its own store and listener as on separate machines: a committed batch
// reaches another node's listener whole and in order once its rows are
// visible, a rolled-back one never does, thousands of jobs travel in a few
// dozen notifications, a node can skip its own writes, and a dropped
// listener connection comes back and asks for a resync. Waits are for
// conditions with a deadline, never sleeps. Also prints the latency from
// commit to callback.
#include "store/postgres/change_listener.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "store/job_store_test_support.hpp"
#include "store/postgres/connection.hpp"
#include "store/postgres/postgres_job_store.hpp"
#include "store/postgres/postgres_test_support.hpp"
#include "support/postgres_cluster.hpp"
#include "support/refusing_port.hpp"

namespace haul::store::postgres {
namespace {

using namespace test_support;  // NOLINT(google-build-using-namespace): test helpers
using haul::testing::PostgresCluster;
using haul::testing::RefusingPort;
using Clock = std::chrono::steady_clock;
using Kind = JobChange::Kind;
using Op = JobChange::Op;

constexpr auto kDeadline = std::chrono::seconds(20);

JobChange change(Op op, std::string id, std::string node, Kind kind = Kind::kJob) {
  return JobChange{kind, op, std::move(id), std::move(node)};
}

// What a listener reported, with when, for the test thread to wait on.
class Received {
 public:
  void add(const JobChange& change) {
    {
      const std::lock_guard lock(mutex_);
      changes_.push_back(change);
      times_.push_back(Clock::now());
    }
    arrived_.notify_all();
  }
  // Waits until `done(changes)` holds; false when kDeadline passed first.
  bool wait(const std::function<bool(const std::vector<JobChange>&)>& done) {
    std::unique_lock lock(mutex_);
    return arrived_.wait_for(lock, kDeadline, [&] { return done(changes_); });
  }
  bool wait_for_count(std::size_t count) {
    return wait([&](const std::vector<JobChange>& changes) { return changes.size() >= count; });
  }
  // Waits for a change naming `id`.
  bool wait_for_id(const std::string& id) {
    return wait([&](const std::vector<JobChange>& changes) {
      return std::any_of(changes.begin(), changes.end(),
                         [&](const JobChange& change) { return change.id == id; });
    });
  }
  bool wait_for_resync() {
    return wait([](const std::vector<JobChange>& changes) {
      return std::any_of(changes.begin(), changes.end(),
                         [](const JobChange& change) { return change.op == Op::kResync; });
    });
  }
  std::vector<JobChange> changes() const {
    const std::lock_guard lock(mutex_);
    return changes_;
  }
  Clock::time_point time_of(std::size_t index) const {
    const std::lock_guard lock(mutex_);
    return times_.at(index);
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<JobChange> changes_;        // guarded by mutex_
  std::vector<Clock::time_point> times_;  // guarded by mutex_
};

class ChangeListenerTest : public PostgresDatabaseTest {
 protected:
  std::unique_ptr<PostgresJobStore> open_store(const std::string& node) {
    auto store = std::make_unique<PostgresJobStore>(url());
    store->set_node_name(node);
    auto opened = store->open();
    EXPECT_TRUE(opened) << opened.error().message;
    return store;
  }
  // A started listener that reports into `received`.
  std::unique_ptr<PostgresChangeListener> listen(Received& received,
                                                 const std::string& ignore_node = "") {
    ChangeListenerOptions options;
    options.url = url();
    options.ignore_node = ignore_node;
    auto listener = std::make_unique<PostgresChangeListener>(
        options, [&received](const JobChange& change) { received.add(change); });
    auto started = listener->start();
    EXPECT_TRUE(started) << started.error().message;
    return listener;
  }
};

// ---- Payloads ---------------------------------------------------------------------

TEST(ChangePayload, RoundTripsInChunksBelowPostgresLimit) {
  std::vector<std::string> ids;
  for (int i = 0; i < 500; ++i)
    ids.push_back("3f2b8c1e-0000-4000-8000-" + std::to_string(100000000000 + i));
  ids.emplace_back("quote\" back\\slash \xc3\xa9");
  const std::vector<std::string_view> views(ids.begin(), ids.end());
  const auto payloads = change_payloads(Kind::kInstance, Op::kDelete, "node-7", views);
  EXPECT_GT(payloads.size(), 1u);
  EXPECT_LT(payloads.size(), 10u);
  std::vector<std::string> back;
  for (const std::string& payload : payloads) {
    EXPECT_LT(payload.size(), 8000u);
    auto changes = parse_change_payload(payload);
    ASSERT_TRUE(changes) << changes.error().message;
    for (const JobChange& parsed : *changes) {
      EXPECT_EQ(parsed.kind, Kind::kInstance);
      EXPECT_EQ(parsed.op, Op::kDelete);
      EXPECT_EQ(parsed.node, "node-7");
      back.push_back(parsed.id);
    }
  }
  EXPECT_EQ(back, ids);
}

TEST(ChangePayload, AnIdTooLongToSendBecomesOneResync) {
  const std::string huge(9000, 'x');
  const auto payloads =
      change_payloads(Kind::kJob, Op::kUpsert, "a", {"before", huge, huge, "after"});
  ASSERT_EQ(payloads.size(), 3u);
  std::vector<JobChange> all;
  for (const std::string& payload : payloads) {
    EXPECT_LT(payload.size(), 8000u);
    auto changes = parse_change_payload(payload);
    ASSERT_TRUE(changes) << changes.error().message;
    all.insert(all.end(), changes->begin(), changes->end());
  }
  EXPECT_EQ(
      all, (std::vector<JobChange>{change(Op::kUpsert, "before", "a"), change(Op::kResync, "", "a"),
                                   change(Op::kUpsert, "after", "a")}));
}

TEST(ChangePayload, AnUnreadablePayloadIsAnError) {
  for (const char* payload :
       {"", "42", "{\"kind\":\"job\"}", "{\"kind\":\"row\",\"op\":\"upsert\"}",
        "{\"kind\":\"job\",\"op\":\"upsert\"}",
        "{\"kind\":\"job\",\"op\":\"upsert\",\"ids\":[1]}"}) {
    auto parsed = parse_change_payload(payload);
    ASSERT_FALSE(parsed) << payload;
    EXPECT_EQ(parsed.error().code, ErrorCode::kProtocol);
  }
}

// ---- Between nodes ----------------------------------------------------------------

TEST_F(ChangeListenerTest, ABatchReachesAnotherNodeWholeOnceCommitted) {
  auto a = open_store("a");
  apply_ok(*a, WriteBatch{{make_job("old", 1)}, {}, {}});
  // Node B reloads what a change names, as the daemon will: every upsert
  // must already be visible (the store is used by the listener's thread only).
  auto reader = open_store("b");
  std::vector<std::string> missing;  // only the listener's thread, until it is stopped
  Received received;
  ChangeListenerOptions options;
  options.url = url();
  PostgresChangeListener b(options, [&](const JobChange& got) {
    if (got.op == Op::kUpsert && got.kind == Kind::kJob) {
      auto loaded = reader->load_job(got.id);
      if (!loaded || !*loaded) missing.push_back(got.id);
    }
    received.add(got);
  });
  ASSERT_TRUE(b.start());

  apply_ok(*a, WriteBatch{{make_job("j1", 2), make_job("j2", 3), make_job("j3", 4)}, {"old"}, {}});
  ASSERT_TRUE(received.wait_for_count(4));
  // Then a marker: whatever arrives before it is all the first batch sent.
  apply_ok(*a,
           WriteBatch{{}, {}, {}, {core::Instance{"gpu", "ssh root@h", "/ui", 1, at_ms(1), {}}}});
  ASSERT_TRUE(received.wait_for_id("gpu"));
  b.stop();
  EXPECT_EQ(received.changes(),
            (std::vector<JobChange>{change(Op::kUpsert, "j1", "a"), change(Op::kUpsert, "j2", "a"),
                                    change(Op::kUpsert, "j3", "a"), change(Op::kDelete, "old", "a"),
                                    change(Op::kUpsert, "gpu", "a", Kind::kInstance)}));
  EXPECT_TRUE(missing.empty()) << "reported before its commit was visible: " << missing.front();
}

TEST_F(ChangeListenerTest, ABatchRolledBackNotifiesNothing) {
  auto a = open_store("a");
  apply_ok(*a, WriteBatch{{make_job("a1", 1)}, {}, {make_event(1)}});
  Received received;
  auto b = listen(received);
  // Fails at its events (a payload the server refuses: not UTF-8), after
  // its rows and notifications were sent in the transaction: the rollback
  // takes them back.
  StoredEvent unreadable = make_event(2);
  unreadable.payload = "caf\xe9";
  auto failed =
      a->apply(WriteBatch{{make_job("lost1", 2), make_job("lost2", 3)}, {"a1"}, {unreadable}});
  ASSERT_FALSE(failed);
  apply_ok(*a, WriteBatch{{make_job("g1", 4), make_job("g2", 5)}, {}, {make_event(2)}});
  ASSERT_TRUE(received.wait_for_id("g2"));
  EXPECT_EQ(received.changes(), (std::vector<JobChange>{change(Op::kUpsert, "g1", "a"),
                                                        change(Op::kUpsert, "g2", "a")}));
}

// The node running a job learns of a request for it (another node's pause
// or cancel) the way it learns of any change: the job's id, to reload.
TEST_F(ChangeListenerTest, AnActionRequestIsAnnouncedAsTheJobChanged) {
  auto a = open_store("a");
  apply_ok(*a, WriteBatch{.upserts = {make_job("j1", 1), make_job("j2", 2)}});
  Received received;
  auto b = listen(received);
  apply_ok(*a, WriteBatch{.action_requests = {{"j1", core::Action::kCancel}}});
  // Upserted and requested in one batch: announced once.
  apply_ok(*a, WriteBatch{.upserts = {make_job("j2", 2)},
                          .action_requests = {{"j2", core::Action::kPause}}});
  ASSERT_TRUE(received.wait_for_id("j2"));
  b->stop();
  EXPECT_EQ(received.changes(), (std::vector<JobChange>{change(Op::kUpsert, "j1", "a"),
                                                        change(Op::kUpsert, "j2", "a")}));
  auto loaded = a->load_job("j1");
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ((*loaded)->pending_action, core::Action::kCancel);
}

TEST_F(ChangeListenerTest, FiveThousandJobsArriveWholeInAFewNotifications) {
  auto a = open_store("a");
  Received received;
  auto b = listen(received);
  constexpr int kJobs = 5000;
  WriteBatch batch;
  std::set<std::string> ids;
  for (int i = 0; i < kJobs; ++i) {
    // As long as the UUIDs the daemon gives jobs.
    std::string id = "5c0ffee0-0000-4000-8000-" + std::to_string(100000000000 + i);
    ids.insert(id);
    batch.upserts.push_back(make_job(std::move(id), i + 1));
  }
  apply_ok(*a, batch);
  ASSERT_TRUE(received.wait_for_count(kJobs));
  const auto changes = received.changes();
  std::set<std::string> got;
  for (const JobChange& change : changes) {
    EXPECT_EQ(change.op, Op::kUpsert);
    got.insert(change.id);
  }
  EXPECT_EQ(changes.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(got, ids);
  // About a hundred ids a notification.
  std::cout << "[ info     ] " << kJobs << " jobs in " << b->notifications() << " notifications\n";
  EXPECT_LE(b->notifications(), 100u);
}

TEST_F(ChangeListenerTest, ANodeCanSkipItsOwnChanges) {
  auto a = open_store("a");
  auto other = open_store("b");
  Received received;
  auto listener = listen(received, /*ignore_node=*/"a");
  apply_ok(*a, WriteBatch{{make_job("mine", 1)}, {}, {}});
  apply_ok(*other, WriteBatch{{make_job("theirs", 2)}, {}, {}});
  // Notifications arrive in commit order: "mine" would have come first.
  ASSERT_TRUE(received.wait_for_id("theirs"));
  EXPECT_EQ(received.changes(), (std::vector<JobChange>{change(Op::kUpsert, "theirs", "b")}));
}

TEST_F(ChangeListenerTest, ADroppedConnectionComesBackAndAsksForAResync) {
  auto a = open_store("a");
  Received received;
  auto listener = listen(received);
  apply_ok(*a, WriteBatch{{make_job("before", 1)}, {}, {}});
  ASSERT_TRUE(received.wait_for_id("before"));
  EXPECT_EQ(query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "
                  "current_database() AND application_name = 'haul-listener'"),
            "1");
  ASSERT_TRUE(received.wait_for_resync()) << "no resync after the connection dropped";
  apply_ok(*a, WriteBatch{{make_job("after", 2)}, {}, {}});
  ASSERT_TRUE(received.wait_for_id("after"));
  const auto changes = received.changes();
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0], change(Op::kUpsert, "before", "a"));
  EXPECT_EQ(changes[1], change(Op::kResync, "", ""));
  EXPECT_EQ(changes[2], change(Op::kUpsert, "after", "a"));
  EXPECT_EQ(query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                  "application_name = 'haul-listener' AND query LIKE 'LISTEN%'"),
            "1");
}

TEST_F(ChangeListenerTest, StopReturnsPromptlyWhileIdle) {
  Received received;
  auto listener = listen(received);
  ASSERT_EQ(query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                  "application_name = 'haul-listener'"),
            "1");
  const auto begin = Clock::now();
  listener->stop();
  EXPECT_LT(Clock::now() - begin, std::chrono::seconds(1));
  // Started again after a stop, it listens again.
  ASSERT_TRUE(listener->start());
  auto a = open_store("a");
  apply_ok(*a, WriteBatch{{make_job("again", 1)}, {}, {}});
  EXPECT_TRUE(received.wait_for_id("again"));
  const auto before_destructor = Clock::now();
  listener.reset();
  EXPECT_LT(Clock::now() - before_destructor, std::chrono::seconds(1));
}

TEST_F(ChangeListenerTest, AFirstConnectionThatFailsIsOneLineWithoutThePassword) {
  const std::string password = "Listener-Pa55word";
  const RefusingPort refusing;
  ChangeListenerOptions options;
  options.url =
      "postgres://haul:" + password + "@127.0.0.1:" + std::to_string(refusing.port()) + "/haul";
  PostgresChangeListener listener(options, [](const JobChange&) {});
  auto started = listener.start();
  ASSERT_FALSE(started);
  const std::string& message = started.error().message;
  EXPECT_EQ(started.error().code, ErrorCode::kUnavailable) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(message.find(password), std::string::npos) << message;
  EXPECT_NE(message.find(redact_password(options.url)), std::string::npos) << message;
  listener.stop();  // not started: nothing to do
}

// Not a bound: prints the latency from commit to callback on a quiet
// machine, one single-job batch at a time.
TEST_F(ChangeListenerTest, ReportsTheLatencyFromCommitToCallback) {
  auto a = open_store("a");
  Received received;
  auto listener = listen(received);
  constexpr int kChanges = 200;
  std::vector<double> from_return_us;  // apply() returned (the writer saw COMMIT) -> callback
  std::vector<double> from_call_us;    // apply() called (an upper bound) -> callback
  for (int i = 0; i < kChanges; ++i) {
    const std::string id = "latency-" + std::to_string(i);
    const auto called = Clock::now();
    apply_ok(*a, WriteBatch{{make_job(id, i + 1)}, {}, {}});
    const auto returned = Clock::now();
    ASSERT_TRUE(received.wait_for_count(static_cast<std::size_t>(i) + 1));
    const auto got = received.time_of(static_cast<std::size_t>(i));
    from_return_us.push_back(std::chrono::duration<double, std::micro>(got - returned).count());
    from_call_us.push_back(std::chrono::duration<double, std::micro>(got - called).count());
  }
  auto percentile = [](std::vector<double> values, double p) {
    std::sort(values.begin(), values.end());
    return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
  };
  std::cout << "[ info     ] commit -> callback over " << kChanges
            << " changes: from apply() returning p50 " << percentile(from_return_us, 0.5)
            << " us, p99 " << percentile(from_return_us, 0.99) << " us; from apply() called p50 "
            << percentile(from_call_us, 0.5) << " us, p99 " << percentile(from_call_us, 0.99)
            << " us\n";
  EXPECT_EQ(received.changes().size(), static_cast<std::size_t>(kChanges));
}

}  // namespace
}  // namespace haul::store::postgres
