#include "api/dto.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace haul::api {
namespace {

using nlohmann::json;

core::Job sample_job() {
  core::Job job;
  job.id = "3f1c2a9e-0000-4000-8000-000000000001";
  job.source = "https://civitai.com/api/download/models/1900322?type=Model&token=secret";
  job.destination = "/models/loras";
  job.name = "lora";
  job.state = core::JobState::kRunning;
  job.created_at = core::TimePoint(std::chrono::milliseconds(1763791967123));
  job.items.resize(2);
  job.items[0].source = job.source;
  job.items[0].path = "/models/loras/fusion.safetensors";
  job.items[0].size = 300;
  job.items[0].bytes_done = 300;
  job.items[0].state = core::ItemState::kCompleted;
  job.items[1].source = "https://example.com/b.gguf";
  job.items[1].size = 100;
  job.items[1].bytes_done = 50;
  job.items[1].state = core::ItemState::kRunning;
  job.speed = 1000;
  job.eta_seconds = 1;
  return job;
}

TEST(Dto, IsoTimeHasMillisecondsAndZ) {
  EXPECT_EQ(iso_time(core::TimePoint(std::chrono::milliseconds(1763791967123))),
            "2025-11-22T06:12:47.123Z");
}

TEST(Dto, JobJsonMasksSecretsAndWeighsProgressByBytes) {
  const json j = job_json(sample_job());
  EXPECT_EQ(j["source"],
            "https://civitai.com/api/download/models/1900322?type=Model&token=REDACTED");
  EXPECT_EQ(j.dump().find("secret"), std::string::npos);
  EXPECT_EQ(j["state"], "running");
  EXPECT_EQ(j["bytes_done"], 350);
  EXPECT_EQ(j["bytes_total"], 400);
  EXPECT_DOUBLE_EQ(j["progress"].get<double>(), 87.5);
  EXPECT_EQ(j["created_at"], "2025-11-22T06:12:47.123Z");
  EXPECT_TRUE(j["finished_at"].is_null());
  ASSERT_EQ(j["items"].size(), 2u);
  EXPECT_EQ(j["items"][0]["name"], "fusion.safetensors");
  EXPECT_EQ(j["items"][1]["name"], "b.gguf");
}

TEST(Dto, DownloadMessageFollowsTheSeedShape) {
  core::Event event;
  event.type = core::EventType::kProgress;
  event.job = sample_job();
  const json m = download_message(event);
  EXPECT_EQ(m["channel"], "download");
  EXPECT_EQ(m["type"], "progress");
  const json& d = m["data"];
  for (const char* key :
       {"jobId", "source", "fileIndex", "totalFiles", "fileName", "fileProgress", "overallProgress",
        "bytesDownloaded", "totalBytes", "speed", "eta", "status"}) {
    EXPECT_TRUE(d.contains(key)) << key;
  }
  EXPECT_EQ(d["fileIndex"], 1);  // the item still running
  EXPECT_EQ(d["totalFiles"], 2);
  EXPECT_EQ(d["fileName"], "b.gguf");
  EXPECT_DOUBLE_EQ(d["fileProgress"].get<double>(), 50.0);
  EXPECT_EQ(d["status"], "downloading");

  event.type = core::EventType::kCompleted;
  EXPECT_EQ(download_message(event)["type"], "complete");
  event.type = core::EventType::kRemoved;
  EXPECT_TRUE(download_message(event).empty());
}

TEST(Dto, ParsesSingleAndBatchRequests) {
  auto one = parse_job_requests(json::parse(R"({"source":"https://a/x","dest":"loras","priority":5,
                                                "labels":{"k":"v"}})"));
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_FALSE(one->batch);
  ASSERT_EQ(one->requests.size(), 1u);
  EXPECT_EQ(one->requests[0].dest, "loras");
  EXPECT_EQ(one->requests[0].priority, 5);
  EXPECT_EQ(one->requests[0].labels.at("k"), "v");

  auto many = parse_job_requests(json::parse(
      R"({"jobs":[{"source":"https://a/1"},{"sources":["https://a/2","https://a/3"]}]})"));
  ASSERT_TRUE(many) << many.error().message;
  EXPECT_TRUE(many->batch);
  ASSERT_EQ(many->requests.size(), 2u);
  EXPECT_EQ(many->requests[1].sources.size(), 2u);
  EXPECT_TRUE(parse_job_requests(json::parse(R"([{"source":"https://a/1"}])"))->batch);
}

TEST(Dto, ParsesAModelsFilesIntoSourcesAndFileSpecs) {
  auto parsed = parse_job_requests(json::parse(R"({"name":"z-image-turbo","files":[
      {"source":"hf://leejet/Z-Image-Turbo-GGUF/z_image_turbo-Q8_0.gguf",
       "path":"diffusion_models/z_image_turbo-Q8_0.gguf","size":7,
       "sha256":"ab","links":["/srv/other-ui/unet/z.gguf"]},
      {"source":"hf://black-forest-labs/FLUX.1-schnell/ae.safetensors","path":"vae/ae.safetensors"}]})"));
  ASSERT_TRUE(parsed) << parsed.error().message;
  const core::JobRequest& request = parsed->requests.at(0);
  ASSERT_EQ(request.sources.size(), 2u);
  ASSERT_EQ(request.files.size(), 2u);
  EXPECT_EQ(request.sources[1], "hf://black-forest-labs/FLUX.1-schnell/ae.safetensors");
  EXPECT_EQ(request.files[0].path, "diffusion_models/z_image_turbo-Q8_0.gguf");
  EXPECT_EQ(request.files[0].size, 7u);
  EXPECT_EQ(request.files[0].sha256, "ab");
  EXPECT_EQ(request.files[0].links, std::vector<std::string>{"/srv/other-ui/unet/z.gguf"});
  EXPECT_EQ(request.files[1].path, "vae/ae.safetensors");
  EXPECT_FALSE(request.files[1].size.has_value());
}

TEST(Dto, RejectsWrongTypesAndUnknownFieldsNamingThem) {
  auto expect = [](const char* body, const char* needle) {
    auto parsed = parse_job_requests(json::parse(body));
    ASSERT_FALSE(parsed) << body;
    EXPECT_NE(parsed.error().message.find(needle), std::string::npos) << parsed.error().message;
  };
  expect(R"({"source":42})", "'source' must be a string");
  expect(R"({"source":"https://a","priority":"high"})", "'priority' must be an integer");
  expect(R"({"source":"https://a","destination":"x"})", "unknown field 'destination'");
  expect(R"({"dest":"x"})", "'source' (or 'sources') is required");
  expect(R"({"source":"https://a","sources":["https://b"]})", "not both");
  expect(R"({"source":"https://a","files":[{"source":"https://b","path":"b"}]})",
         "give 'files' or 'source(s)', not both");
  expect(R"({"files":[{"source":"https://b"}]})", "files[0]: 'path' is required");
  expect(R"({"files":[{"source":"https://b","path":"b","size":-1}]})",
         "files[0]: 'size' must be a byte count");
  expect(R"({"jobs":[{"source":"https://a"},{"source":1}]})", "job 1: 'source' must be a string");
  expect(R"([])", "no jobs given");
  expect(R"("just a string")", "must be a JSON object");
}

}  // namespace
}  // namespace haul::api
