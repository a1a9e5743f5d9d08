#include "core/job.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace haul::core {
namespace {

TEST(JobState, NamesRoundTrip) {
  for (JobState s : {JobState::kQueued, JobState::kRunning, JobState::kRetrying, JobState::kPaused,
                     JobState::kCompleted, JobState::kFailed, JobState::kCancelled}) {
    EXPECT_EQ(parse_state(state_name(s)), s);
  }
  EXPECT_FALSE(parse_state("done").has_value());
}

TEST(JobState, TransitionsFollowTheLifecycle) {
  EXPECT_EQ(state_after(JobState::kRunning, Action::kPause), JobState::kPaused);
  EXPECT_EQ(state_after(JobState::kQueued, Action::kPause), JobState::kPaused);
  EXPECT_EQ(state_after(JobState::kPaused, Action::kResume), JobState::kQueued);
  EXPECT_EQ(state_after(JobState::kFailed, Action::kRetry), JobState::kQueued);
  EXPECT_EQ(state_after(JobState::kCancelled, Action::kRetry), JobState::kQueued);
  EXPECT_EQ(state_after(JobState::kRetrying, Action::kCancel), JobState::kCancelled);
  EXPECT_EQ(state_after(JobState::kPaused, Action::kCancel), JobState::kCancelled);
}

TEST(JobState, ImpossibleTransitionsAreRefused) {
  EXPECT_FALSE(state_after(JobState::kCompleted, Action::kPause));
  EXPECT_FALSE(state_after(JobState::kCompleted, Action::kCancel));
  EXPECT_FALSE(state_after(JobState::kRunning, Action::kResume));
  EXPECT_FALSE(state_after(JobState::kQueued, Action::kRetry));
  EXPECT_FALSE(state_after(JobState::kCancelled, Action::kCancel));
  EXPECT_FALSE(state_after(JobState::kPaused, Action::kPause));
}

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
  job.items[0].state = JobState::kCompleted;
  EXPECT_DOUBLE_EQ(job.percent(), 50.0);
}

// Issue 10 item 8: a cancelled job's files say cancelled, not queued.
TEST(Job, ItemsFollowTheirJobIntoPausedCancelledAndFailed) {
  auto job_with = [](JobState state) {
    Job job;
    job.items.resize(4);
    job.items[0].state = JobState::kCompleted;
    job.items[1].state = JobState::kRunning;
    job.items[1].speed = 5;
    job.items[2].state = JobState::kQueued;
    job.items[3].state = JobState::kFailed;
    job.items[3].error = JobError{"not_found", "404"};
    job.state = state;
    settle_items(job);
    return job;
  };
  for (JobState state : {JobState::kPaused, JobState::kCancelled, JobState::kFailed}) {
    const Job job = job_with(state);
    EXPECT_EQ(job.items[0].state, JobState::kCompleted) << state_name(state);
    for (std::size_t i = 1; i < 4; ++i) EXPECT_EQ(job.items[i].state, state) << i;
    EXPECT_EQ(job.items[1].speed, 0);
    EXPECT_TRUE(job.items[3].error) << "an item keeps its own error";
  }
  const Job running = job_with(JobState::kRunning);
  EXPECT_EQ(running.items[1].state, JobState::kRunning);
  EXPECT_EQ(running.items[2].state, JobState::kQueued);

  Job resumed = job_with(JobState::kPaused);
  resumed.state = JobState::kQueued;
  settle_items(resumed);
  EXPECT_EQ(resumed.items[0].state, JobState::kCompleted);
  EXPECT_EQ(resumed.items[1].state, JobState::kQueued);
  EXPECT_EQ(resumed.items[2].state, JobState::kQueued);
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
