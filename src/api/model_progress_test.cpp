// Seed 002's progress document from jobs: its exact shape and status words.
#include "api/model_progress.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace haul::api {
namespace {

using nlohmann::json;

core::Job model_job(std::string group, std::string name, core::JobState state, std::int64_t seq) {
  core::Job job;
  job.id = group + "/" + name + "#" + std::to_string(seq);
  job.seq = seq;
  job.group = std::move(group);
  job.name = std::move(name);
  job.state = state;
  core::Item a;
  a.path = "/models/" + job.group + "/" + job.name;
  a.size = 1000;
  a.bytes_done = 250;
  core::Item b;
  b.path = "/models/vae/ae.safetensors";
  b.size = 24;
  b.bytes_done = 24;
  job.items = {a, b};
  job.created_at = core::TimePoint(std::chrono::milliseconds(1752489045123));
  return job;
}

TEST(ModelProgress, HasTheSeedsShapeAndStatusWords) {
  const core::Job running =
      model_job("checkpoints", "model.safetensors", core::JobState::kRunning, 1);
  const core::Job queued = model_job("loras", "a.safetensors", core::JobState::kPaused, 2);
  core::Job unnamed = model_job("loras", "", core::JobState::kQueued, 3);
  const auto now = core::TimePoint(std::chrono::milliseconds(1752489999000));
  const json out = model_progress({&running, &queued, &unnamed}, {}, now);
  ASSERT_EQ(out.size(), 2u) << out.dump();
  const json& entry = out.at("checkpoints").at("model.safetensors");
  EXPECT_EQ(entry.at("totalSize"), 1024);
  EXPECT_EQ(entry.at("downloaded"), 274);
  EXPECT_EQ(entry.at("localPath"), "/models/checkpoints/model.safetensors");
  EXPECT_EQ(entry.at("status"), "progress");
  EXPECT_EQ(entry.at("lastUpdated"), "2025-07-14T10:46:39.000Z") << "running: stamped now";
  EXPECT_EQ(out.at("loras").size(), 1u) << "a job without a name is no model";
  EXPECT_EQ(out.at("loras").at("a.safetensors").at("status"), "queued") << "paused waits";
  EXPECT_EQ(out.at("loras").at("a.safetensors").at("lastUpdated"), "2025-07-14T10:30:45.123Z");
  EXPECT_EQ(entry.size(), 5u) << "exactly the seed's fields";
}

TEST(ModelProgress, FiltersByGroupAndModelByPathAndByJobs) {
  const core::Job a = model_job("checkpoints", "a", core::JobState::kCompleted, 1);
  const core::Job b = model_job("loras", "b", core::JobState::kFailed, 2);
  const core::Job c = model_job("loras", "c", core::JobState::kCancelled, 3);
  const std::vector<const core::Job*> jobs = {&a, &b, &c};
  ProgressFilter by_model;
  by_model.group = "loras";
  by_model.model = "c";
  EXPECT_EQ(model_progress(jobs, by_model, {}).dump(),
            json({{"loras", {{"c", model_progress({&c}, {}, {}).at("loras").at("c")}}}}).dump());
  EXPECT_EQ(model_progress(jobs, by_model, {}).at("loras").at("c").at("status"), "cancelled");
  ProgressFilter by_path;
  by_path.path = "/models/checkpoints/a";
  EXPECT_EQ(model_progress(jobs, by_path, {}).size(), 1u);
  EXPECT_EQ(model_progress(jobs, by_path, {}).at("checkpoints").at("a").at("status"), "completed");
  ProgressFilter by_jobs;
  by_jobs.job_ids = std::vector<std::string>{b.id};
  EXPECT_EQ(model_progress(jobs, by_jobs, {}).at("loras").at("b").at("status"), "failed");
  EXPECT_FALSE(model_progress(jobs, by_jobs, {}).at("loras").contains("c"));
}

TEST(ModelProgress, TheNewestJobOfAModelWins) {
  const core::Job old = model_job("loras", "b", core::JobState::kFailed, 1);
  const core::Job fresh = model_job("loras", "b", core::JobState::kQueued, 2);
  EXPECT_EQ(model_progress({&fresh, &old}, {}, {}).at("loras").at("b").at("status"), "queued");
}

}  // namespace
}  // namespace haul::api
