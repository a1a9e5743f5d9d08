// The DB thread's group commit: writes queued together are merged into one
// transaction and nothing in them is lost (regression: instance upserts and
// deletes were dropped by the merge, so instances vanished at restart).
#include "store/db_worker.hpp"

#include <gtest/gtest.h>

#include <future>
#include <vector>

#include "store/sqlite/sqlite_job_store.hpp"
#include "store/sqlite/store_test_support.hpp"

namespace haul::store::sqlite {
namespace {

using namespace test_support;  // NOLINT(google-build-using-namespace): test helpers

class DbWorkerTest : public SqliteJobStoreTest {};

TEST_F(DbWorkerTest, MergedWritesKeepJobsInstancesManifestsAndDeletes) {
  core::Instance a{"gpu-1", "ssh root@10.0.0.1",      "/workspace/ComfyUI",
                   1,       at_ms(1'700'000'000'000), {}};
  core::Instance b{"gpu-2", "ssh root@10.0.0.2",      "/workspace/ComfyUI",
                   2,       at_ms(1'700'000'000'500), {}};
  {
    DbWorker worker(open_store(), [](std::function<void()> task) { task(); });
    std::promise<void> queued;
    // Held on the DB thread until every write below is queued: they merge.
    worker.read<bool>(
        [&](JobStore&) -> Result<bool> {
          queued.get_future().wait();
          return true;
        },
        [](Result<bool>) {});
    WriteBatch first;
    first.instance_upserts = {a, b};
    first.manifest_upserts = {StoredManifest{"m1", "old", "", "[]", at_ms(1), at_ms(1)},
                              StoredManifest{"m2", "gone", "", "[]", at_ms(1), at_ms(1)}};
    worker.write(first);
    WriteBatch second;
    second.upserts = {make_job("j1", 1, core::JobState::kQueued)};
    a.ui_home = "/root/ComfyUI";
    second.instance_upserts = {a};
    second.manifest_upserts = {StoredManifest{"m1", "new", "", "[1]", at_ms(1), at_ms(2)}};
    worker.write(second);
    WriteBatch third;
    third.instance_deletes = {"gpu-2"};
    third.manifest_deletes = {"m2"};
    std::promise<Result<void>> written;
    worker.write(third, [&](Result<void> result) { written.set_value(result); });
    queued.set_value();
    const Result<void> result = written.get_future().get();
    ASSERT_TRUE(result) << result.error().message;
  }
  auto store = open_store();
  auto instances = store->load_instances();
  ASSERT_TRUE(instances) << instances.error().message;
  EXPECT_EQ(*instances, (std::vector<core::Instance>{a}));
  auto manifests = store->load_manifests();
  ASSERT_TRUE(manifests) << manifests.error().message;
  EXPECT_EQ(
      *manifests,
      (std::vector<StoredManifest>{StoredManifest{"m1", "new", "", "[1]", at_ms(1), at_ms(2)}}));
  auto job = store->load_job("j1");
  ASSERT_TRUE(job) << job.error().message;
  EXPECT_TRUE(job->has_value());
}

}  // namespace
}  // namespace haul::store::sqlite
