#include "core/job.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace haul::core {
namespace {

TEST(Job, ProgressIsByteWeighted) {
  Job job;
  job.items.resize(2);
  job.items[0].size = 900;
  job.items[0].bytes_done = 900;
  job.items[1].size = 100;
  job.items[1].bytes_done = 0;
  EXPECT_EQ(job.bytes_done(), 900u);
  EXPECT_EQ(job.bytes_total(), 1000u);
  EXPECT_DOUBLE_EQ(job.percent(), 90.0);
  job.items[1].size.reset();
  EXPECT_FALSE(job.bytes_total().has_value());
  EXPECT_DOUBLE_EQ(job.percent(), 0.0);
  job.items[0].state = ItemState::kCompleted;
  EXPECT_DOUBLE_EQ(job.percent(), 50.0);
}

// Issue 10 item 8: a cancelled job's files say cancelled, not queued.
// Issue 10 item 8: a cancelled job's files say cancelled, not queued.
TEST(Job, SettleItemsMakesEveryItemFollowItsJob) {
  Job job;
  job.items.resize(3);
  job.items[0].state = ItemState::kCompleted;
  job.items[1].state = ItemState::kRunning;
  job.items[1].speed = 5;
  job.items[2].state = ItemState::kFailed;
  job.items[2].error = JobError{"not_found", "404"};
  job.state = JobState::kCancelled;
  settle_items(job);
  EXPECT_EQ(job.items[0].state, ItemState::kCompleted);
  EXPECT_EQ(job.items[1].state, ItemState::kCancelled);
  EXPECT_EQ(job.items[1].speed, 0);
  EXPECT_EQ(job.items[2].state, ItemState::kCancelled);
  EXPECT_TRUE(job.items[2].error) << "an item keeps its own error";
}

TEST(Job, IdsAreDistinctVersionFourUuids) {
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = new_job_id();
    EXPECT_TRUE(std::regex_match(id, uuid)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace haul::core
