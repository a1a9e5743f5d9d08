// The DB thread's group commit with fences, action requests and hosts: a
// merged run keeps every fence and each job's last request and host, goes
// to the store as one transaction while nothing conflicts, and when one
// write's lease is lost (kConflict) every write of the run still gets its
// own result (regression: the fences were dropped by the merge, and one
// lost lease would have failed the writes merged with it). Against the
// memory store behind a double that fails batches holding a lost lease, as
// a shared store does (memory and SQLite never fail a fence).
#include "store/db_worker.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/job_store_test_support.hpp"
#include "store/memory/memory_job_store.hpp"

namespace haul::store {
namespace {

using namespace test_support;  // NOLINT(google-build-using-namespace): test helpers

// A MemoryJobStore that refuses, as PostgreSQL does, any batch holding a
// fence in `lost`, and records the batches it was given. The test reaches
// it through a pointer while the worker owns it.
class FencingStore final : public JobStore {
 public:
  std::vector<Fence> lost;
  bool unavailable = false;         // every batch fails as with the database gone
  std::vector<WriteBatch> applied;  // every batch apply() was called with
  MemoryJobStore inner;

  Result<void> open() override { return inner.open(); }
  Result<void> apply(const WriteBatch& batch) override {
    applied.push_back(batch);
    if (unavailable) return fail(ErrorCode::kUnavailable, "connection lost");
    for (const Fence& fence : batch.fences) {
      if (std::find(lost.begin(), lost.end(), fence) != lost.end())
        return fail(ErrorCode::kConflict,
                    "lease lost: job " + fence.job_id + " is held by another node");
    }
    return inner.apply(batch);
  }
  Result<std::vector<core::Job>> load_jobs(const JobFilter& filter) override {
    return inner.load_jobs(filter);
  }
  Result<std::optional<core::Job>> load_job(const std::string& id) override {
    return inner.load_job(id);
  }
  Result<std::int64_t> max_seq() override { return inner.max_seq(); }
  Result<std::vector<StoredEvent>> events_after(std::uint64_t after, std::size_t limit) override {
    return inner.events_after(after, limit);
  }
  Result<std::uint64_t> last_event_id() override { return inner.last_event_id(); }
  Result<std::vector<core::Instance>> load_instances() override { return inner.load_instances(); }
  Result<std::vector<StoredManifest>> load_manifests() override { return inner.load_manifests(); }
};

class DbWorkerMergeTest : public ::testing::Test {
 protected:
  DbWorkerMergeTest() {
    auto owned = std::make_unique<FencingStore>();
    store_ = owned.get();
    worker_ =
        std::make_unique<DbWorker>(std::move(owned), [](std::function<void()> task) { task(); });
  }

  // Holds the DB thread until release(): writes queued meanwhile merge.
  // Returns once the thread is held, so none of them is taken with the read.
  void hold() {
    std::promise<void> held;
    worker_->read<bool>(
        [this, &held](JobStore&) -> Result<bool> {
          held.set_value();
          gate_.get_future().wait();
          return true;
        },
        [](Result<bool>) {});
    held.get_future().wait();
  }
  void release() { gate_.set_value(); }

  // Queues `batch`; the future holds its result.
  std::future<Result<void>> write(WriteBatch batch) {
    auto done = std::make_shared<std::promise<Result<void>>>();
    auto result = done->get_future();
    worker_->write(std::move(batch), [done](Result<void> outcome) { done->set_value(outcome); });
    return result;
  }

  // Waits until every queued write was applied; then the store is the test's.
  void drain() {
    auto drained = worker_->call<bool>([](JobStore&) -> Result<bool> { return true; });
    ASSERT_TRUE(drained);
  }

  std::promise<void> gate_;  // declared first: outlives the worker's thread
  FencingStore* store_ = nullptr;
  std::unique_ptr<DbWorker> worker_;
};

TEST_F(DbWorkerMergeTest, MergedWritesKeepEveryFenceAndTheLastRequestOfEachJob) {
  hold();
  auto first = write(WriteBatch{.upserts = {make_job("a", 1), make_job("b", 2)},
                                .fences = {{"a", "n", 1}},
                                .action_requests = {{"a", core::Action::kPause}}});
  auto second = write(
      WriteBatch{.fences = {{"a", "n", 1}, {"b", "n", 4}},
                 .action_requests = {{"a", core::Action::kCancel}, {"b", core::Action::kPause}}});
  auto third =
      write(WriteBatch{.fences = {{"c", "", 0}}, .action_requests = {{"b", std::nullopt}}});
  release();
  for (auto* result : {&first, &second, &third}) {
    const Result<void> outcome = result->get();
    EXPECT_TRUE(outcome) << outcome.error().message;
  }
  drain();

  ASSERT_EQ(store_->applied.size(), 1u) << "one transaction: nothing conflicted";
  const WriteBatch& merged = store_->applied[0];
  EXPECT_EQ(merged.fences, (std::vector<Fence>{{"a", "n", 1}, {"b", "n", 4}, {"c", "", 0}}))
      << "every fence, each once";
  EXPECT_EQ(merged.action_requests,
            (std::vector<ActionRequest>{{"a", core::Action::kCancel}, {"b", std::nullopt}}));
  auto a = store_->load_job("a");
  ASSERT_TRUE(a && a->has_value());
  EXPECT_EQ((*a)->pending_action, core::Action::kCancel);
  auto b = store_->load_job("b");
  ASSERT_TRUE(b && b->has_value());
  EXPECT_EQ((*b)->pending_action, std::nullopt);
}

TEST_F(DbWorkerMergeTest, OneLostLeaseFailsOnlyItsOwnWrite) {
  store_->lost = {{"lost", "n", 1}};
  hold();
  auto before =
      write(WriteBatch{.upserts = {make_job("kept-1", 1)}, .fences = {{"kept-1", "n", 3}}});
  Job late = make_job("lost", 2, core::JobState::kCompleted);
  auto stale = write(WriteBatch{
      .upserts = {late}, .events = {make_event(7, "lost")}, .fences = {{"lost", "n", 1}}});
  auto unfenced = write(WriteBatch{.upserts = {make_job("kept-2", 3)}, .events = {make_event(8)}});
  auto after = write(WriteBatch{.deletes = {"old"},
                                .fences = {{"kept-1", "n", 3}},
                                .action_requests = {{"kept-1", core::Action::kPause}}});
  release();

  const Result<void> stale_result = stale.get();
  ASSERT_FALSE(stale_result);
  EXPECT_EQ(stale_result.error().code, ErrorCode::kConflict);
  EXPECT_EQ(stale_result.error().message, "lease lost: job lost is held by another node");
  for (auto* result : {&before, &unfenced, &after}) {
    const Result<void> outcome = result->get();
    EXPECT_TRUE(outcome) << outcome.error().message;
  }
  drain();

  // The merged transaction, refused; then each write on its own, in order.
  ASSERT_EQ(store_->applied.size(), 5u);
  EXPECT_EQ(store_->applied[1].upserts, (std::vector<Job>{make_job("kept-1", 1)}));
  EXPECT_EQ(store_->applied[2].fences, (std::vector<Fence>{{"lost", "n", 1}}));
  EXPECT_EQ(store_->applied[3].events, (std::vector<StoredEvent>{make_event(8)}));
  EXPECT_EQ(store_->applied[4].deletes, (std::vector<std::string>{"old"}));
  EXPECT_EQ(ids_of(load_ok(*store_)), (std::vector<std::string>{"kept-1", "kept-2"}));
  EXPECT_EQ(ids_of(*store_->events_after(0, 10)), (std::vector<std::uint64_t>{8}));
  EXPECT_EQ(load_ok(*store_)[0].pending_action, core::Action::kPause);
}

// A job's host, like its action request: the last of each job in the run
// counts, and a run of hosts alone is a write like any other.
TEST_F(DbWorkerMergeTest, MergedWritesKeepTheLastHostOfEachJob) {
  hold();
  auto first = write(WriteBatch{.upserts = {make_job("a", 1), make_job("b", 2)},
                                .hosts = {{"a", "x.example"}, {"b", "y.example"}}});
  auto second = write(WriteBatch{.hosts = {{"a", "z.example"}, {"c", "w.example"}}});
  auto third = write(WriteBatch{.hosts = {{"c", ""}}});
  release();
  for (auto* result : {&first, &second, &third}) {
    const Result<void> outcome = result->get();
    EXPECT_TRUE(outcome) << outcome.error().message;
  }
  auto alone = write(WriteBatch{.hosts = {{"b", "v.example"}}});
  EXPECT_TRUE(alone.get());
  drain();

  ASSERT_EQ(store_->applied.size(), 2u);
  EXPECT_EQ(store_->applied[0].hosts,
            (std::vector<JobHost>{{"a", "z.example"}, {"b", "y.example"}, {"c", ""}}));
  EXPECT_EQ(store_->applied[1].hosts, (std::vector<JobHost>{{"b", "v.example"}}));
}

// Only a lost lease is worth trying write by write: any other failure of
// the merged transaction (the database gone) is every write's.
TEST_F(DbWorkerMergeTest, AnotherFailureFailsTheWholeRunOnce) {
  store_->unavailable = true;
  hold();
  auto first = write(WriteBatch{.upserts = {make_job("a", 1)}, .fences = {{"a", "n", 1}}});
  auto second = write(WriteBatch{.upserts = {make_job("b", 2)}});
  release();
  for (auto* result : {&first, &second}) {
    const Result<void> outcome = result->get();
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().code, ErrorCode::kUnavailable);
  }
  drain();
  EXPECT_EQ(store_->applied.size(), 1u);
}

}  // namespace
}  // namespace haul::store
