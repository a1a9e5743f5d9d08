#include "core/error_context.hpp"

#include <gtest/gtest.h>

namespace haul::core {
namespace {

Job local_job() {
  Job job;
  job.attempts = 2;
  Item a;
  a.source = "https://h/dir/model.safetensors?token=x";
  a.size = 100;
  Item b = a;
  b.path = "/m/vae/ae.safetensors";
  b.bytes_done = 40;
  job.items = {a, b};
  return job;
}

TEST(ErrorContext, AnItemsStageFollowsHowFarItGot) {
  Job job = local_job();
  JobError connect = item_error(job, 0, "unavailable", "connection refused");
  EXPECT_EQ(connect.file, "model.safetensors") << "the source's name, no query";
  EXPECT_EQ(connect.stage, "connect");
  EXPECT_EQ(connect.attempt, 2);
  EXPECT_EQ(item_error(job, 1, "unavailable", "reset").stage, "transfer");
  EXPECT_EQ(item_error(job, 1, "unavailable", "reset").file, "ae.safetensors");
  EXPECT_EQ(item_error(job, 1, "data_loss", "sha256 mismatch").stage, "verify");
  job.items[1].bytes_done = 100;
  EXPECT_EQ(item_error(job, 1, "io", "rename failed").stage, "finalize");
  job.target = "gpu1";
  job.items[1].extras.edit().resource = "loras/x.md";
  const JobError remote = item_error(job, 1, "command_failed", "exited with status 8");
  EXPECT_EQ(remote.stage, "command 2 of 2");
  EXPECT_EQ(remote.file, "loras/x.md");
}

TEST(ErrorContext, AJobsErrorIsItsFailedItemsOrWhereItStopped) {
  Job job = local_job();
  job.items[1].state = ItemState::kFailed;
  job.items[1].error = item_error(job, 1, "data_loss", "sha256 mismatch");
  const JobError failed = job_error(job, "data_loss", "sha256 mismatch (gave up)");
  EXPECT_EQ(failed.stage, "verify");
  EXPECT_EQ(failed.file, "ae.safetensors");
  EXPECT_EQ(failed.message, "sha256 mismatch (gave up)");
  Job unresolved;
  unresolved.source = "hf://acme/repo";
  unresolved.items = {Item{.source = "hf://acme/repo"}};
  unresolved.attempts = 1;
  EXPECT_EQ(job_error(unresolved, "not_found", "no such repo").stage, "resolve");
  unresolved.target = "gpu1";
  EXPECT_EQ(job_error(unresolved, "unavailable", "ssh: refused").stage, "connect");
}

TEST(ErrorContext, TheDescriptionReadsBack) {
  JobError error{"unavailable", "503 Service Unavailable", "my model].bin", "transfer", 3};
  const std::string text = describe(error);
  EXPECT_EQ(
      text,
      "503 Service Unavailable [stage=transfer file=my model).bin attempt=3 code=unavailable]");
  const auto read = read_described(text);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->message, "503 Service Unavailable");
  EXPECT_EQ(read->fields.at("file"), "my model).bin");
  EXPECT_EQ(read->fields.at("stage"), "transfer");
  EXPECT_EQ(read->fields.at("attempt"), "3");
  EXPECT_EQ(read->fields.at("code"), "unavailable");
  EXPECT_EQ(read_described("job x: done"), std::nullopt);
  EXPECT_EQ(read_described("list [a, b]"), std::nullopt);
  EXPECT_EQ(describe(JobError{"", "plain"}), "plain");
}

}  // namespace
}  // namespace haul::core
