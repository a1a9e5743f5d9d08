// What every JobStore keeps and gives back (jobs, items, instances, events,
// filters, ordering, high-water marks), run against each implementation:
// SQLite, memory and PostgreSQL (a fresh database per test on a throwaway
// cluster, tests/support/postgres_cluster.hpp). What only the SQLite file
// does (opening, schema, crashes, sharing) is in sqlite/, what only
// PostgreSQL does in postgres/.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "store/job_store_test_support.hpp"
#include "store/memory/memory_job_store.hpp"
#include "store/postgres/postgres_job_store.hpp"
#include "store/sqlite/sqlite_job_store.hpp"
#include "support/postgres_cluster.hpp"

namespace haul::store {
namespace {

using namespace test_support;  // NOLINT(google-build-using-namespace): test helpers

// Makes an opened store keeping `capacity` events, its files (if any) in `dir`.
using StoreFactory =
    std::function<std::unique_ptr<JobStore>(const fs::path& dir, std::size_t capacity)>;

struct Implementation {
  std::string name;
  StoreFactory make;
};

// So a failure names the store ("postgres") rather than dumping the bytes.
// NOLINTNEXTLINE(readability-identifier-naming): the name gtest looks for
void PrintTo(const Implementation& implementation, std::ostream* out) {
  *out << implementation.name;
}

class JobStoreContract : public ::testing::TestWithParam<Implementation> {
 protected:
  std::unique_ptr<JobStore> open_store(std::size_t capacity = 10000) {
    return opened(GetParam().make(dir_.path(), capacity));
  }

  ScratchDir dir_;
};

TEST_P(JobStoreContract, RoundTripsAFullyPopulatedJob) {
  Job job;
  job.id = "3f1c2b4e-0000-4000-8000-000000000001";
  job.seq = 42;
  job.source = "https://huggingface.co/org/model/resolve/main/a.safetensors?token=secret";
  job.target = "instance-7";
  job.destination = "/models/checkpoints";
  job.group = "loras";
  job.name = "Model \"A\" — ünïcode";
  job.priority = -3;
  job.state = JobState::kRetrying;
  job.attempts = 2;
  job.max_attempts = 9;
  job.next_attempt_at = at_ms(1'700'000'123'456);
  job.error =
      JobError{"unavailable", "HTTP 503 from example.com", "a \"b\".safetensors", "transfer", 2};
  job.created_at = at_ms(1'700'000'000'001);
  job.started_at = at_ms(1'700'000'000'999);
  job.finished_at = at_ms(-1'234);  // before the epoch: floor, not truncation
  job.labels = std::map<std::string, std::string>{
      {"civitai_id", "1234"}, {"note", "a \"quoted\"\nline"}, {"", "empty key"}};
  job.source_options = std::map<std::string, std::string>{{"include", "*.safetensors\nconfig.json"},
                                                          {"hf_cache", "1"}};
  job.speed = 12345.5;
  job.eta_seconds = 17;
  job.items = {
      Item{"https://a/1", "/models/checkpoints/a.bin", "ab12", "model", core::ItemState::kCompleted,
           std::uint64_t{1} << 40, std::uint64_t{1} << 40, 99.5, std::nullopt},
      Item{"https://a/2", "", "", "images", core::ItemState::kFailed, std::nullopt, 7, 0,
           JobError{"data_loss", "sha256 mismatch", "loras/x.md", "command 2 of 3", 1}},
      Item{"https://a/3", "/x/c", "cd34", "cache", core::ItemState::kRunning,
           std::numeric_limits<std::uint64_t>::max(), std::numeric_limits<std::uint64_t>::max() - 1,
           1.0, JobError{"", ""}},
  };
  job.items[0].extras.edit().links = {"/ui2/models/a.bin", "/ui3/a \"q\".bin"};
  job.items[1].extras.edit().resource = "loras/x.md";
  auto store = open_store();
  apply_ok(*store, WriteBatch{{job}, {}, {}});

  auto loaded = store->load_job(job.id);
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, without_live_figures(job));
  EXPECT_EQ((*loaded)->speed, 0);
  EXPECT_EQ((*loaded)->eta_seconds, std::nullopt);

  auto all = load_ok(*store);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0], without_live_figures(job));
}

TEST_P(JobStoreContract, InstancesAreStoredReplacedAndDeleted) {
  core::Instance a{"123456",
                   "ssh -p 44686 root@109.231.106.68 -L 8080:localhost:8080",
                   "/workspace/ComfyUI",
                   1,
                   at_ms(1'700'000'000'000),
                   {}};
  core::Instance b{"gpu-2",
                   "ssh root@10.0.0.2 -i '/keys/my key'",
                   "/opt/ui 'quoted'",
                   2,
                   at_ms(1'700'000'000'500),
                   {}};
  auto store = open_store();
  WriteBatch first;
  first.instance_upserts = {a, b};
  apply_ok(*store, first);
  auto loaded = store->load_instances();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(*loaded, (std::vector<core::Instance>{a, b}));

  a.ui_home = "/root/ComfyUI";
  a.last_used_at = at_ms(1'700'000'100'000);  // a job started there
  WriteBatch second;
  second.instance_upserts = {a};
  second.instance_deletes = {"gpu-2"};
  apply_ok(*store, second);
  loaded = store->load_instances();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(*loaded, (std::vector<core::Instance>{a}));
}

TEST_P(JobStoreContract, ManifestsAreStoredReplacedAndDeleted) {
  StoredManifest a{"m1",
                   "/srv/models.json",
                   "/srv/models.json",
                   R"({"haul_manifest": 1})",
                   at_ms(1'700'000'000'000),
                   at_ms(1'700'000'000'000)};
  StoredManifest b{"m2",   "inline \"one\"",         "",
                   "[\n]", at_ms(1'700'000'000'001), at_ms(1'700'000'000'001)};
  auto store = open_store();
  WriteBatch first;
  first.manifest_upserts = {b, a};
  apply_ok(*store, first);
  auto loaded = store->load_manifests();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(*loaded, (std::vector<StoredManifest>{a, b}));  // by id

  StoredManifest a2 = a;
  a2.content = R"({"haul_manifest": 1, "models": []})";
  a2.created_at = at_ms(1'800'000'000'000);  // an update keeps the first creation time
  a2.updated_at = at_ms(1'700'000'000'900);
  WriteBatch second;
  second.manifest_upserts = {a2};
  second.manifest_deletes = {"m2"};
  apply_ok(*store, second);
  loaded = store->load_manifests();
  ASSERT_TRUE(loaded) << loaded.error().message;
  a2.created_at = a.created_at;
  EXPECT_EQ(*loaded, (std::vector<StoredManifest>{a2}));
}

TEST_P(JobStoreContract, DefaultsAndEmptyFieldsRoundTrip) {
  Job job;  // everything at its default, no items, no labels
  job.id = "bare";
  auto store = open_store();
  apply_ok(*store, WriteBatch{{job}, {}, {}});
  auto loaded = store->load_job("bare");
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ(**loaded, job);
}

TEST_P(JobStoreContract, LoadJobOfAnUnknownIdIsEmpty) {
  auto store = open_store();
  auto loaded = store->load_job("nope");
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_FALSE(loaded->has_value());
}

TEST_P(JobStoreContract, UpsertReplacesTheJobAndItsItems) {
  auto store = open_store();
  Job job = make_job("a", 1);
  job.items = {make_item("s1", "p1"), make_item("s2", "p2"), make_item("s3", "p3")};
  apply_ok(*store, WriteBatch{{job}, {}, {}});

  job.state = JobState::kRunning;
  job.name = "renamed";
  job.items = {make_item("s9", "p9")};
  apply_ok(*store, WriteBatch{{job}, {}, {}});

  auto loaded = store->load_job("a");
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ(**loaded, job);
}

TEST_P(JobStoreContract, LaterUpsertOfTheSameJobInOneBatchWins) {
  auto store = open_store();
  Job first = make_job("a", 1);
  Job second = make_job("a", 1, JobState::kPaused);
  second.items.push_back(make_item("s2", "p2"));
  apply_ok(*store, WriteBatch{{first, second}, {}, {}});
  auto loaded = store->load_job("a");
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ(**loaded, second);
}

TEST_P(JobStoreContract, FiltersByStateTargetAndGroup) {
  auto store = open_store();
  Job a = make_job("a", 1, JobState::kQueued);
  Job b = make_job("b", 2, JobState::kRunning);
  b.target = "remote-1";
  Job c = make_job("c", 3, JobState::kQueued);
  c.group = "loras";
  c.target = "remote-1";
  Job d = make_job("d", 4, JobState::kCompleted);
  d.group = "loras";
  d.items.push_back(make_item("s", "p"));
  apply_ok(*store, WriteBatch{{a, b, c, d}, {}, {}});

  using V = std::vector<std::string>;
  EXPECT_EQ(ids_of(load_ok(*store)), (V{"a", "b", "c", "d"}));
  EXPECT_EQ(ids_of(load_ok(*store, {JobState::kQueued, {}, {}})), (V{"a", "c"}));
  EXPECT_EQ(ids_of(load_ok(*store, {{}, "remote-1", {}})), (V{"b", "c"}));
  EXPECT_EQ(ids_of(load_ok(*store, {{}, {}, "loras"})), (V{"c", "d"}));
  EXPECT_EQ(ids_of(load_ok(*store, {JobState::kQueued, "remote-1", {}})), (V{"c"}));
  EXPECT_EQ(ids_of(load_ok(*store, {JobState::kQueued, "local", "loras"})), V{});
  EXPECT_EQ(ids_of(load_ok(*store, {{}, "local", ""})), (V{"a"}));
  EXPECT_EQ(ids_of(load_ok(*store, {JobState::kFailed, {}, {}})), V{});

  // Filtered loads carry their items too, and only their own.
  auto loras = load_ok(*store, {{}, {}, "loras"});
  ASSERT_EQ(loras.size(), 2u);
  EXPECT_EQ(loras[0], c);
  EXPECT_EQ(loras[1], d);
}

TEST_P(JobStoreContract, LoadsJobsInSeqOrderWithItemsInIndexOrder) {
  auto store = open_store();
  Job late = make_job("late", 30);
  Job early = make_job("early", 10);
  Job middle = make_job("middle", 20);
  for (int i = 0; i < 12; ++i) {  // > 10, so text order of idx would differ
    middle.items.push_back(make_item("s" + std::to_string(i), "p" + std::to_string(i)));
  }
  apply_ok(*store, WriteBatch{{late, early}, {}, {}});
  apply_ok(*store, WriteBatch{{middle}, {}, {}});

  auto jobs = load_ok(*store);
  EXPECT_EQ(ids_of(jobs), (std::vector<std::string>{"early", "middle", "late"}));
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[1].items, middle.items);
}

TEST_P(JobStoreContract, DeleteRemovesTheJobAndItsItems) {
  auto store = open_store();
  Job gone = make_job("gone", 1);
  gone.items.push_back(make_item("s2", "p2"));
  Job kept = make_job("kept", 2);
  apply_ok(*store, WriteBatch{{gone, kept}, {}, {}});

  apply_ok(*store, WriteBatch{{}, {"gone", "never-existed"}, {}});

  auto loaded = store->load_job("gone");
  ASSERT_TRUE(loaded);
  EXPECT_FALSE(loaded->has_value());
  EXPECT_EQ(ids_of(load_ok(*store)), (std::vector<std::string>{"kept"}));
}

TEST_P(JobStoreContract, DeleteInTheSameBatchWinsOverAnUpsert) {
  auto store = open_store();
  apply_ok(*store, WriteBatch{{make_job("a", 1)}, {"a"}, {}});
  EXPECT_TRUE(load_ok(*store).empty());
}

TEST_P(JobStoreContract, EventLogKeepsTheNewestN) {
  auto store = open_store(/*capacity=*/5);
  for (std::uint64_t id = 1; id <= 9; id += 3) {  // batches of 3: 1-3, 4-6, 7-9
    apply_ok(*store, WriteBatch{{}, {}, {make_event(id), make_event(id + 1), make_event(id + 2)}});
  }
  auto events = store->events_after(0, 100);
  ASSERT_TRUE(events) << events.error().message;
  EXPECT_EQ(ids_of(*events), (std::vector<std::uint64_t>{5, 6, 7, 8, 9}));
  EXPECT_EQ((*events)[0], make_event(5));

  // One batch bigger than the whole log keeps only its own newest.
  WriteBatch big;
  for (std::uint64_t id = 100; id < 120; ++id) big.events.push_back(make_event(id));
  apply_ok(*store, big);
  events = store->events_after(0, 100);
  ASSERT_TRUE(events);
  EXPECT_EQ(ids_of(*events), (std::vector<std::uint64_t>{115, 116, 117, 118, 119}));
}

TEST_P(JobStoreContract, EventsAfterPagesInIdOrder) {
  auto store = open_store();
  // Appended out of order and with gaps: the log is ordered by id.
  apply_ok(*store, WriteBatch{{}, {}, {make_event(7), make_event(3), make_event(10)}});
  apply_ok(*store, WriteBatch{{}, {}, {make_event(12), make_event(11)}});

  std::vector<std::uint64_t> seen;
  std::uint64_t after = 0;
  int pages = 0;
  while (true) {
    auto page = store->events_after(after, 2);
    ASSERT_TRUE(page) << page.error().message;
    if (page->empty()) break;
    EXPECT_LE(page->size(), 2u);
    for (const StoredEvent& event : *page) {
      EXPECT_EQ(event, make_event(event.id));
      seen.push_back(event.id);
    }
    after = page->back().id;
    ++pages;
  }
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{3, 7, 10, 11, 12}));
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(ids_of(*store->events_after(10, 100)), (std::vector<std::uint64_t>{11, 12}));
  EXPECT_TRUE(store->events_after(12, 100)->empty());
  EXPECT_TRUE(store->events_after(0, 0)->empty());
  EXPECT_TRUE(store->events_after(std::numeric_limits<std::uint64_t>::max(), 10)->empty());
  EXPECT_EQ(store->events_after(0, std::numeric_limits<std::size_t>::max())->size(), 5u);
}

TEST_P(JobStoreContract, MaxSeqAndLastEventIdAreHighWaterMarks) {
  auto store = open_store(/*capacity=*/2);
  EXPECT_EQ(*store->max_seq(), 0);
  EXPECT_EQ(*store->last_event_id(), 0u);

  apply_ok(*store, WriteBatch{{make_job("a", 5), make_job("b", 9), make_job("c", 7)},
                              {},
                              {make_event(4), make_event(8), make_event(6)}});
  EXPECT_EQ(*store->max_seq(), 9);
  EXPECT_EQ(*store->last_event_id(), 8u);

  // Deleting the newest job and trimming the newest event do not lower them:
  // a restarted daemon must never hand out a seq or an event id twice.
  apply_ok(*store, WriteBatch{{make_job("d", 3)}, {"b"}, {make_event(1), make_event(2)}});
  EXPECT_EQ(*store->max_seq(), 9);
  EXPECT_EQ(*store->last_event_id(), 8u);
  EXPECT_EQ(ids_of(*store->events_after(0, 10)), (std::vector<std::uint64_t>{6, 8}));
}

TEST_P(JobStoreContract, ZeroCapacityKeepsNoEventsButRemembersTheLastId) {
  auto store = open_store(/*capacity=*/0);
  apply_ok(*store, WriteBatch{{}, {}, {make_event(1), make_event(2)}});
  EXPECT_TRUE(store->events_after(0, 10)->empty());
  EXPECT_EQ(*store->last_event_id(), 2u);
}

TEST_P(JobStoreContract, ANodeRoundTrips) {
  auto store = open_store();
  Job mine = make_job("mine", 1);
  mine.node = std::string("n1");
  Job shared = make_job("shared", 2);
  shared.node = std::string("any");
  Job anywhere = make_job("anywhere", 3);  // no node: ""
  apply_ok(*store, WriteBatch{.upserts = {mine, shared, anywhere}});

  EXPECT_EQ(load_ok(*store), (std::vector<Job>{mine, shared, anywhere}));
  for (const Job& job : {mine, shared, anywhere}) {
    auto loaded = store->load_job(job.id);
    ASSERT_TRUE(loaded && loaded->has_value()) << job.id;
    EXPECT_EQ(**loaded, job);
    EXPECT_EQ((*loaded)->node.allocated(), !job.node->empty()) << "'' stays unallocated";
  }
  // An upsert writes the node like any field: moved, then cleared.
  mine.node = std::string("n2");
  shared.node = std::string();
  apply_ok(*store, WriteBatch{.upserts = {mine, shared}});
  EXPECT_EQ(load_ok(*store), (std::vector<Job>{mine, shared, anywhere}));
}

// A request reaches the job's runner through the store (the job's
// pending_action as loaded); nothing but another request changes it.
TEST_P(JobStoreContract, AnActionRequestIsLoadedAsThePendingAction) {
  auto store = open_store();
  Job a = make_job("a", 1, JobState::kRunning);
  Job b = make_job("b", 2, JobState::kRunning);
  apply_ok(*store, WriteBatch{.upserts = {a, b}});
  apply_ok(*store, WriteBatch{.action_requests = {{"a", core::Action::kPause},
                                                  {"b", core::Action::kPause},
                                                  {"b", core::Action::kCancel}}});
  auto loaded = store->load_job("a");
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ((*loaded)->pending_action, core::Action::kPause);
  std::vector<Job> all = load_ok(*store);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].pending_action, core::Action::kPause);
  EXPECT_EQ(all[1].pending_action, core::Action::kCancel) << "the later request of one batch";
  // Only the requested action changed: the rest of the job is as upserted.
  all[1].pending_action.reset();
  EXPECT_EQ(all[1], b);
  all = load_ok(*store, {JobState::kRunning, {}, {}});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].pending_action, core::Action::kCancel) << "filtered loads carry it too";

  // The runner's upserts, which do not know of the request, leave it.
  a.attempts = 2;
  b.pending_action = core::Action::kResume;  // live only: upserts do not store it
  apply_ok(*store, WriteBatch{.upserts = {a, b}});
  all = load_ok(*store);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].attempts, 2);
  EXPECT_EQ(all[0].pending_action, core::Action::kPause);
  EXPECT_EQ(all[1].pending_action, core::Action::kCancel);

  // Answered: cleared. A fresh job has none, even upserted with one.
  Job c = make_job("c", 3);
  c.pending_action = core::Action::kCancel;
  apply_ok(*store, WriteBatch{.upserts = {c}, .action_requests = {{"a", std::nullopt}}});
  all = load_ok(*store);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].pending_action, std::nullopt);
  EXPECT_EQ(all[2].pending_action, std::nullopt);
}

TEST_P(JobStoreContract, AnActionRequestForAMissingJobIsSkipped) {
  auto store = open_store();
  apply_ok(*store, WriteBatch{.upserts = {make_job("gone", 1)}});
  // Never stored, and deleted in the same batch: nothing to ask, no error.
  apply_ok(*store, WriteBatch{.deletes = {"gone"},
                              .action_requests = {{"never-stored", core::Action::kCancel},
                                                  {"gone", core::Action::kPause}}});
  EXPECT_TRUE(load_ok(*store).empty());
  // Stored in the same batch as its request: the request applies.
  apply_ok(*store, WriteBatch{.upserts = {make_job("new", 2)},
                              .action_requests = {{"new", core::Action::kPause}}});
  std::vector<Job> all = load_ok(*store);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].pending_action, core::Action::kPause);
  // A job upserted again after a delete (ids are never reused, but the
  // request must not outlive its row) starts without one.
  apply_ok(*store, WriteBatch{.deletes = {"new"}});
  apply_ok(*store, WriteBatch{.upserts = {make_job("new", 2)}});
  all = load_ok(*store);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].pending_action, std::nullopt);
}

// A job's source host is for claims alone (postgres/queue_claims_test.cpp
// reads it back): it changes nothing a load returns, in the batch that
// inserts the job or later, and a host for a missing job is skipped.
TEST_P(JobStoreContract, AHostDoesNotDisturbLoads) {
  auto store = open_store();
  const Job a = make_job("a", 1);
  const Job b = make_job("b", 2, JobState::kRunning);
  apply_ok(*store, WriteBatch{.upserts = {a, b},
                              .hosts = {{"a", "a.example"}, {"b", ""}, {"a", "b.example"}}});
  EXPECT_EQ(load_ok(*store), (std::vector<Job>{a, b}));
  apply_ok(*store, WriteBatch{.hosts = {{"b", "b.example"}}});
  auto loaded = store->load_job("b");
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ(**loaded, b);
  EXPECT_EQ(load_ok(*store, {JobState::kRunning, {}, {}}), (std::vector<Job>{b}));
  // Never stored, and deleted in the same batch: skipped, no error.
  apply_ok(*store, WriteBatch{.deletes = {"a"},
                              .hosts = {{"a", "a.example"}, {"never-stored", "c.example"}}});
  EXPECT_EQ(load_ok(*store), (std::vector<Job>{b}));
  const WriteBatch hosts_only{.hosts = {{"b", "b.example"}}};
  EXPECT_FALSE(hosts_only.empty()) << "a host is a write";
}

// PostgreSQL, shared by nodes that number their events each from its own
// clock, keeps the first event of an id and applies the rest of the batch;
// SQLite, with one writer, refuses the batch. (The memory store, for tests,
// replaces the event.)
TEST_P(JobStoreContract, AnEventIdAlreadyStored) {
  auto store = open_store(/*capacity=*/3);
  apply_ok(*store, WriteBatch{.events = {make_event(1), make_event(2), make_event(3)}});
  StoredEvent again = make_event(3);
  again.payload = "{\"second\":true}";
  auto applied = store->apply(
      WriteBatch{.upserts = {make_job("a", 1)}, .events = {again, make_event(4), make_event(4)}});
  auto events = store->events_after(0, 10);
  ASSERT_TRUE(events) << events.error().message;
  if (GetParam().name != "sqlite") {
    // Nodes sharing a queue number events from their clocks and may meet:
    // the first event of an id stays, the rest of the batch is applied.
    ASSERT_TRUE(applied) << applied.error().message;
    EXPECT_EQ(ids_of(load_ok(*store)), (std::vector<std::string>{"a"}));
    // The log counts the events it holds, not the ones sent: it still
    // keeps three.
    EXPECT_EQ(*events, (std::vector<StoredEvent>{make_event(2), make_event(3), make_event(4)}));
    EXPECT_EQ(*store->last_event_id(), 4u);
    apply_ok(*store, WriteBatch{.events = {make_event(5)}});
    EXPECT_EQ(ids_of(*store->events_after(0, 10)), (std::vector<std::uint64_t>{3, 4, 5}));
  } else {
    ASSERT_FALSE(applied);
    EXPECT_EQ(applied.error().code, ErrorCode::kInternal) << applied.error().message;
    EXPECT_TRUE(load_ok(*store).empty());
    EXPECT_EQ(ids_of(*events), (std::vector<std::uint64_t>{1, 2, 3}));
    EXPECT_EQ(*store->last_event_id(), 3u);
  }
}

// A sole node holds every lease, so its fences always hold. A shared store
// checks them (postgres/queue_claims_test.cpp).
TEST_P(JobStoreContract, ASoleNodeAcceptsFencedBatches) {
  if (GetParam().name == "postgres") GTEST_SKIP() << "checks fences: queue_claims_test.cpp";
  auto store = open_store();
  apply_ok(*store, WriteBatch{.upserts = {make_job("a", 1)},
                              .fences = {{"a", "this-node", 7}, {"never-stored", "this-node", 1}}});
  EXPECT_EQ(ids_of(load_ok(*store)), (std::vector<std::string>{"a"}));
  apply_ok(*store, WriteBatch{.fences = {{"a", "another-node", 0}, {"a", "", 0}}});
  apply_ok(*store, WriteBatch{.deletes = {"a"}, .fences = {{"a", "another-node", 0}}});
  EXPECT_TRUE(load_ok(*store).empty());
}

INSTANTIATE_TEST_SUITE_P(
    Stores, JobStoreContract,
    ::testing::Values(
        Implementation{"sqlite",
                       [](const fs::path& dir, std::size_t capacity) -> std::unique_ptr<JobStore> {
                         return std::make_unique<sqlite::SqliteJobStore>(dir / "haul.db", capacity);
                       }},
        Implementation{"memory",
                       [](const fs::path&, std::size_t capacity) -> std::unique_ptr<JobStore> {
                         return std::make_unique<MemoryJobStore>(capacity);
                       }},
        // Throws (failing the test, naming the package to install) when
        // PostgreSQL 15 is missing.
        Implementation{"postgres",
                       [](const fs::path&, std::size_t capacity) -> std::unique_ptr<JobStore> {
                         auto& cluster = haul::testing::PostgresCluster::shared();
                         return std::make_unique<postgres::PostgresJobStore>(
                             cluster.url(cluster.create_database()), capacity);
                       }}),
    [](const ::testing::TestParamInfo<Implementation>& param) { return param.param.name; });

}  // namespace
}  // namespace haul::store
