// What only the PostgreSQL job store does, against a throwaway PostgreSQL 15
// cluster (tests/support/postgres_cluster.hpp), a fresh database per test:
// nodes starting at once upgrade the schema once, a newer schema is refused,
// connection errors are one line without the password, a dropped connection
// is opened again, writers sharing a database take turns, batches are all
// or nothing, big batches span several statements and ids sort by their
// bytes whatever the database's collation. The contract every store keeps is
// src/store/job_store_contract_test.cpp (which runs against PostgreSQL too).
#include "store/postgres/postgres_job_store.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "store/job_store_test_support.hpp"
#include "store/postgres/connection.hpp"
#include "store/postgres/postgres_test_support.hpp"
#include "store/postgres/schema.hpp"
#include "support/postgres_cluster.hpp"
#include "support/refusing_port.hpp"

namespace haul::store::postgres {
namespace {

using namespace test_support;  // NOLINT(google-build-using-namespace): test helpers
using haul::testing::PostgresCluster;
using haul::testing::RefusingPort;

class PostgresJobStoreTest : public PostgresDatabaseTest {
 protected:
  std::unique_ptr<PostgresJobStore> open_store(std::size_t capacity = 10000) {
    return opened(std::make_unique<PostgresJobStore>(url(), capacity));
  }
};

// ---- Connecting -----------------------------------------------------------------

TEST(RedactPassword, MasksThePasswordWhereverTheUrlHoldsOne) {
  EXPECT_EQ(redact_password("postgres://haul:s3cret@db.example:5432/haul"),
            "postgres://haul:***@db.example:5432/haul");
  EXPECT_EQ(redact_password("postgresql://haul:p%40ss%2Fword@db/haul?sslmode=require"),
            "postgresql://haul:***@db/haul?sslmode=require");
  EXPECT_EQ(redact_password("postgres://db/haul?sslmode=require&password=s3cret&user=haul"),
            "postgres://db/haul?sslmode=require&password=***&user=haul");
  EXPECT_EQ(redact_password("postgres://haul:s3cret@db/haul?password=other"),
            "postgres://haul:***@db/haul?password=***");
  // Characters a URL's password should not hold raw: masked all the same.
  EXPECT_EQ(redact_password("postgres://haul:pa@ss@db/haul"), "postgres://haul:***@db/haul");
  EXPECT_EQ(redact_password("postgres://haul:pa/s?s#@db/haul"), "postgres://haul:***@db/haul");
  // Nothing to hide: the port's colon is not a password's.
  EXPECT_EQ(redact_password("postgres://haul@db:5432/haul"), "postgres://haul@db:5432/haul");
  EXPECT_EQ(redact_password("postgres://db:5432/haul"), "postgres://db:5432/haul");
  EXPECT_EQ(redact_password(""), "");
}

// The message of a failed open(), checked for what every one must be.
void expect_clean_failure(const std::string& url, ErrorCode code, const std::string& password) {
  PostgresJobStore store(url);
  auto opened = store.open();
  ASSERT_FALSE(opened) << url;
  const std::string& message = opened.error().message;
  EXPECT_EQ(opened.error().code, code) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(message.find(password), std::string::npos) << message;
  EXPECT_NE(message.find(redact_password(url)), std::string::npos) << message;
  // Still closed: every other call says so.
  EXPECT_FALSE(store.load_jobs({}));
}

TEST_F(PostgresJobStoreTest, AnUnreachableServerIsOneLineWithoutThePassword) {
  const std::string password = "Unreachable-Pa55word";
  const RefusingPort refusing;
  expect_clean_failure(
      "postgres://haul:" + password + "@127.0.0.1:" + std::to_string(refusing.port()) + "/haul",
      ErrorCode::kUnavailable, password);
}

TEST_F(PostgresJobStoreTest, AWrongPasswordIsOneLineWithoutThePassword) {
  const std::string role = "login_" + database_;  // roles are the cluster's, not the database's
  cluster_->create_password_role(role, "Right-Pa55word");
  const std::string base = "@127.0.0.1:" + std::to_string(cluster_->port()) + "/" + database_;
  expect_clean_failure("postgres://" + role + ":Wrong-Pa55word" + base,
                       ErrorCode::kPermissionDenied, "Wrong-Pa55word");
  expect_clean_failure("postgres://" + role + base, ErrorCode::kPermissionDenied, "Pa55word");
  // The server does check it: the right one gets in.
  query("GRANT CREATE ON SCHEMA public TO " + role);
  PostgresJobStore store("postgresql://" + role + ":Right-Pa55word" + base);
  auto opened = store.open();
  EXPECT_TRUE(opened) << opened.error().message;
}

TEST_F(PostgresJobStoreTest, AUrlLibpqCannotReadIsRefusedWithoutThePassword) {
  // libpq quotes the whole URL in this complaint; the password is masked in it.
  expect_clean_failure("postgres://haul:Quoted-Pa55word@[::1/haul", ErrorCode::kInvalidArgument,
                       "Quoted-Pa55word");
  // libpq would end the password at the first '@' or '/' and take the rest
  // for a host or a port.
  expect_clean_failure("postgres://haul:Split@Pa55word@127.0.0.1/haul", ErrorCode::kInvalidArgument,
                       "Pa55word");
  expect_clean_failure("postgres://haul:Split/Pa55word@127.0.0.1/haul", ErrorCode::kInvalidArgument,
                       "Pa55word");
  expect_clean_failure("mysql://haul:Other-Pa55word@127.0.0.1/haul", ErrorCode::kInvalidArgument,
                       "Other-Pa55word");
}

TEST_F(PostgresJobStoreTest, ADroppedConnectionIsOpenedAgain) {
  auto store = open_store();
  apply_ok(*store, WriteBatch{{make_job("a", 1)}, {}, {}});
  // What a server restart or an idle timeout does to the store's connection.
  EXPECT_EQ(query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "
                  "current_database() AND pid <> pg_backend_pid()"),
            "1");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
               "pid <> pg_backend_pid()") != "0") {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the backend did not exit";
    std::this_thread::yield();
  }
  apply_ok(*store, WriteBatch{{make_job("b", 2)}, {}, {}});
  EXPECT_EQ(ids_of(load_ok(*store)), (std::vector<std::string>{"a", "b"}));
}

// ---- One node of a name at a time -------------------------------------------------

TEST_F(PostgresJobStoreTest, ANodeKeepsASecondNodeOfItsNameOut) {
  auto first = std::make_unique<PostgresJobStore>(url());
  first->serve_as("alpha");
  ASSERT_TRUE(first->open());
  PostgresJobStore second(url());
  second.serve_as("alpha");
  auto refused = second.open();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(refused.error().message.find("another haul node named 'alpha' is serving the queue"),
            std::string::npos)
      << refused.error().message;
  EXPECT_EQ(refused.error().message.find('\n'), std::string::npos);
  // Nodes of other names, and a store that does not serve (a reader), are
  // not kept out.
  PostgresJobStore beta(url());
  beta.serve_as("beta");
  EXPECT_TRUE(beta.open());
  EXPECT_TRUE(PostgresJobStore(url()).open());
  first.reset();  // the node stops: the next one may serve
  auto opened = second.open();
  EXPECT_TRUE(opened) << opened.error().message;
}

TEST_F(PostgresJobStoreTest, ANodeThatLostTheQueueToAnotherWritesNothingMore) {
  PostgresJobStore first(url());
  first.serve_as("alpha");
  ASSERT_TRUE(first.open());
  apply_ok(first, WriteBatch{{make_job("a", 1)}, {}, {}});
  // Its connection drops (a network cut): the lock goes with it...
  EXPECT_EQ(query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "
                  "current_database() AND pid <> pg_backend_pid()"),
            "1");
  // ...and another node starts serving the queue.
  PostgresJobStore second(url());
  second.serve_as("alpha");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (auto opened = second.open(); !opened; opened = second.open()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << opened.error().message;
    std::this_thread::yield();
  }
  auto late = first.apply(WriteBatch{{make_job("stale", 2)}, {}, {}});
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(late.error().message.find("another haul node named 'alpha'"), std::string::npos)
      << late.error().message;
  EXPECT_FALSE(first.load_jobs({})) << "nor reads what may be stale";
  EXPECT_EQ(ids_of(load_ok(second)), (std::vector<std::string>{"a"}));
}

// ---- Schema ---------------------------------------------------------------------

TEST_F(PostgresJobStoreTest, NodesOpeningAFreshDatabaseAtOnceApplyTheSchemaOnce) {
  for (int round = 0; round < 4; ++round) {
    const std::string database = cluster_->create_database();
    constexpr int kNodes = 3;
    std::latch go(kNodes);
    std::vector<Result<void>> opened(kNodes);
    std::vector<std::unique_ptr<PostgresJobStore>> stores;
    stores.reserve(kNodes);
    for (int i = 0; i < kNodes; ++i)
      stores.push_back(std::make_unique<PostgresJobStore>(cluster_->url(database)));
    std::vector<std::thread> nodes;
    nodes.reserve(kNodes);
    for (int i = 0; i < kNodes; ++i) {
      nodes.emplace_back([&, i] {
        go.arrive_and_wait();
        opened[i] = stores[i]->open();
      });
    }
    for (std::thread& node : nodes) node.join();
    for (int i = 0; i < kNodes; ++i)
      ASSERT_TRUE(opened[i]) << "round " << round << ": " << opened[i].error().message;
    EXPECT_EQ(cluster_->query(database,
                              "SELECT string_agg(version::text, ',' ORDER BY version) FROM "
                              "schema_version"),
              "1,2,3,4,5,6,7,8,9");
    // One schema, shared: what one node writes the others read.
    apply_ok(*stores[0], WriteBatch{{make_job("a", 1)}, {}, {make_event(1)}});
    EXPECT_EQ(ids_of(load_ok(*stores[kNodes - 1])), (std::vector<std::string>{"a"}));
  }
  static_assert(kSchemaVersion == 9, "update the expected versions above");
}

TEST_F(PostgresJobStoreTest, RefusesADatabaseFromANewerHaul) {
  open_store();
  query("INSERT INTO schema_version (version, applied_at) VALUES (99, 0)");
  PostgresJobStore store(url());
  auto opened = store.open();
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::kInternal);
  EXPECT_NE(opened.error().message.find("schema version 99 is newer"), std::string::npos)
      << opened.error().message;
  EXPECT_NE(opened.error().message.find(url()), std::string::npos) << opened.error().message;
  EXPECT_FALSE(store.apply(WriteBatch{{make_job("a", 1)}, {}, {}})) << "the store stays closed";
  EXPECT_EQ(query("SELECT count(*) FROM jobs"), "0");
}

TEST_F(PostgresJobStoreTest, OpeningAgainChangesNothing) {
  auto store = open_store();
  apply_ok(*store, WriteBatch{{make_job("a", 1)}, {}, {make_event(1)}});
  ASSERT_TRUE(store->open());
  auto again = open_store();
  EXPECT_EQ(query("SELECT count(*) FROM schema_version"), "9");
  EXPECT_EQ(ids_of(load_ok(*again)), (std::vector<std::string>{"a"}));
  EXPECT_EQ(*again->last_event_id(), 1u);
}

// ---- Writing ------------------------------------------------------------------

TEST_F(PostgresJobStoreTest, ABatchThatFailsMidwayAppliesNothing) {
  auto store = open_store();
  Job a = make_job("a", 1);
  apply_ok(*store, WriteBatch{{a, make_job("b", 2)}, {}, {make_event(1)}});

  Job changed = a;
  changed.state = JobState::kFailed;
  changed.items.clear();
  // Fails at its last step, the events: the server refuses a payload that
  // is not UTF-8 after the jobs were written.
  StoredEvent unreadable = make_event(2);
  unreadable.payload = "caf\xe9";
  WriteBatch bad{{changed, make_job("new", 50)}, {"b"}, {make_event(3), unreadable}};
  auto applied = store->apply(bad);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code, ErrorCode::kInvalidArgument) << applied.error().message;
  EXPECT_NE(applied.error().message.find(url()), std::string::npos) << applied.error().message;

  EXPECT_EQ(ids_of(load_ok(*store)), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(load_ok(*store)[0], a);
  EXPECT_EQ(ids_of(*store->events_after(0, 10)), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(*store->max_seq(), 2);
  EXPECT_EQ(*store->last_event_id(), 1u);

  // The store is usable afterwards: the failed transaction is gone.
  apply_ok(*store, WriteBatch{{changed}, {}, {make_event(2)}});
  EXPECT_EQ(load_ok(*store)[0], changed);
}

TEST_F(PostgresJobStoreTest, ATextPostgresCannotHoldFailsTheBatchInsteadOfBeingCut) {
  auto store = open_store();
  Job job = make_job("a", 1);
  job.name = std::string("before\0after", 12);
  auto applied = store->apply(WriteBatch{{job}, {}, {make_event(1)}});
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code, ErrorCode::kInvalidArgument) << applied.error().message;
  EXPECT_TRUE(load_ok(*store).empty());
  EXPECT_EQ(*store->last_event_id(), 0u);

  // Text that is not UTF-8 is refused by the server (SQLite would keep it).
  job.name = "caf\xe9";
  applied = store->apply(WriteBatch{{job}, {}, {make_event(1)}});
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code, ErrorCode::kInvalidArgument) << applied.error().message;
  EXPECT_TRUE(load_ok(*store).empty());
  EXPECT_EQ(*store->last_event_id(), 0u);
}

TEST_F(PostgresJobStoreTest, BatchesLargerThanOneStatementRoundTrip) {
  auto store = open_store(/*capacity=*/1500);
  WriteBatch batch;
  for (int i = 0; i < 2500; ++i)
    batch.upserts.push_back(make_job("job-" + std::to_string(i), i + 1));
  Job big = make_job("big", 5000);
  for (int i = 0; i < 2100; ++i)
    big.items.push_back(make_item("s" + std::to_string(i), "p" + std::to_string(i)));
  batch.upserts.push_back(big);
  for (std::uint64_t id = 1; id <= 2200; ++id) batch.events.push_back(make_event(id));
  apply_ok(*store, batch);

  const std::vector<Job> jobs = load_ok(*store);
  ASSERT_EQ(jobs.size(), 2501u);
  EXPECT_EQ(jobs.front(), batch.upserts.front());
  EXPECT_EQ(jobs.back(), big);
  EXPECT_EQ(query("SELECT count(*) FROM items"), std::to_string(2500 + 2101));
  auto events = store->events_after(0, 5000);
  ASSERT_TRUE(events) << events.error().message;
  ASSERT_EQ(events->size(), 1500u);
  EXPECT_EQ(events->front().id, 701u);
  EXPECT_EQ(query("SELECT value FROM counters WHERE name = 'event_count'"), "1500");

  // Shrinking the big job deletes its surplus items, in one statement too.
  big.items.resize(3);
  apply_ok(*store, WriteBatch{{big}, {}, {}});
  EXPECT_EQ(query("SELECT count(*) FROM items WHERE job_id = 'big'"), "3");
  auto loaded = store->load_job("big");
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ(**loaded, big);
}

// Writers on several nodes take turns, so the log's row count and its
// trimming stay right however their transactions interleave.
TEST_F(PostgresJobStoreTest, WritersSharingADatabaseKeepTheLogBounded) {
  constexpr std::size_t kCapacity = 7;
  constexpr int kWriters = 3;
  constexpr std::uint64_t kBatches = 40;
  std::vector<std::unique_ptr<PostgresJobStore>> stores;
  stores.reserve(kWriters);
  for (int i = 0; i < kWriters; ++i) stores.push_back(open_store(kCapacity));
  std::latch go(kWriters);
  std::vector<std::string> failures(kWriters);
  std::vector<std::thread> writers;
  writers.reserve(kWriters);
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      go.arrive_and_wait();
      for (std::uint64_t b = 0; b < kBatches; ++b) {
        const std::uint64_t id = 1 + b * kWriters + static_cast<std::uint64_t>(w);
        auto applied = stores[w]->apply(WriteBatch{{}, {}, {make_event(id)}});
        if (!applied) {
          failures[w] = applied.error().message;
          return;
        }
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  for (const std::string& failure : failures) EXPECT_EQ(failure, "");
  EXPECT_EQ(query("SELECT count(*) FROM events"), std::to_string(kCapacity));
  EXPECT_EQ(query("SELECT value FROM counters WHERE name = 'event_count'"),
            std::to_string(kCapacity));
  EXPECT_EQ(*stores[0]->last_event_id(), kBatches * kWriters);
}

// ---- Reading ------------------------------------------------------------------

// Ids sort by their bytes, as in SQLite: an ICU collation would put "a"
// before "B" and ignore the underscore.
TEST_F(PostgresJobStoreTest, IdsSortByTheirBytesWhateverTheCollation) {
  database_ =
      cluster_->create_database("TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'");
  ASSERT_EQ(query("SELECT 'a' < 'B'"), "t") << "not a collation that tells the two apart";
  auto store = open_store();
  WriteBatch batch;
  for (const char* id : {"a", "B", "_c"}) {
    batch.upserts.push_back(make_job(id, 7));  // one seq: the ids decide
    batch.instance_upserts.push_back(core::Instance{id, "ssh root@h", "/ui", 1, at_ms(1), {}});
    batch.manifest_upserts.push_back(StoredManifest{id, id, "", "{}", at_ms(1), at_ms(1)});
  }
  apply_ok(*store, batch);
  const std::vector<std::string> bytewise{"B", "_c", "a"};
  EXPECT_EQ(ids_of(load_ok(*store)), bytewise);
  auto instances = store->load_instances();
  ASSERT_TRUE(instances) << instances.error().message;
  std::vector<std::string> ids;
  for (const core::Instance& instance : *instances) ids.push_back(instance.id);
  EXPECT_EQ(ids, bytewise);
  auto manifests = store->load_manifests();
  ASSERT_TRUE(manifests) << manifests.error().message;
  ids.clear();
  for (const StoredManifest& manifest : *manifests) ids.push_back(manifest.id);
  EXPECT_EQ(ids, bytewise);
}

TEST_F(PostgresJobStoreTest, AnUpdateKeepsWhenAnInstanceAndAManifestWereFirstStored) {
  auto store = open_store();
  core::Instance instance{"gpu", "ssh root@h", "/ui", 1, at_ms(1000), {}};
  StoredManifest manifest{"m", "m", "", "{}", at_ms(1000), at_ms(1000)};
  apply_ok(*store, WriteBatch{{}, {}, {}, {instance}, {}, {manifest}, {}});

  core::Instance later = instance;
  later.created_at = at_ms(5000);
  later.max_parallel = 4;
  StoredManifest changed = manifest;
  changed.created_at = at_ms(5000);
  changed.updated_at = at_ms(6000);
  // New ones stored twice in one batch: the first creation time and the
  // second's everything else, as two upserts one after the other leave them.
  core::Instance fresh{"new", "ssh root@n", "/ui", 1, at_ms(2000), {}};
  core::Instance fresh_again = fresh;
  fresh_again.created_at = at_ms(3000);
  fresh_again.max_parallel = 9;
  StoredManifest fresh_manifest{"n", "n", "", "{}", at_ms(2000), at_ms(2000)};
  StoredManifest fresh_manifest_again{"n", "n2", "", "[]", at_ms(3000), at_ms(3000)};
  apply_ok(*store, WriteBatch{{},
                              {},
                              {},
                              {later, fresh, fresh_again},
                              {},
                              {changed, fresh_manifest, fresh_manifest_again},
                              {}});
  later.created_at = instance.created_at;
  changed.created_at = manifest.created_at;
  fresh_again.created_at = fresh.created_at;
  fresh_manifest_again.created_at = fresh_manifest.created_at;
  auto instances = store->load_instances();
  ASSERT_TRUE(instances) << instances.error().message;
  EXPECT_EQ(*instances, (std::vector<core::Instance>{later, fresh_again}));
  auto manifests = store->load_manifests();
  ASSERT_TRUE(manifests) << manifests.error().message;
  EXPECT_EQ(*manifests, (std::vector<StoredManifest>{changed, fresh_manifest_again}));
}

}  // namespace
}  // namespace haul::store::postgres
