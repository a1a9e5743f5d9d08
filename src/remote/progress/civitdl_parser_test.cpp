#include "remote/progress/civitdl_parser.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

#include "remote/progress/progress_test_support.hpp"

namespace haul::remote::progress {
namespace {

using Kind = ProgressUpdate::Kind;
using testing::expect_near_relative;
using testing::of_kind;
using testing::read_testdata;
using testing::run_new;

std::vector<ProgressUpdate> parse(std::string_view fixture, std::size_t chunk = 0) {
  return run_new<CivitdlParser>(read_testdata(fixture), chunk);
}

// tests/support/civitdl-standin, found from this folder (src/remote/progress).
std::filesystem::path standin_script() {
#ifdef HAUL_PROGRESS_TESTDATA
  const std::filesystem::path folder = std::filesystem::path(HAUL_PROGRESS_TESTDATA).parent_path();
#else
  const std::filesystem::path folder = std::filesystem::path(__FILE__).parent_path();
#endif
  return folder.parent_path().parent_path().parent_path() / "tests" / "support" / "civitdl-standin";
}

// The block of the reference (§2), verbatim.
TEST(CivitdlParser, ReadsTheReferenceBlock) {
  const auto updates = parse("reference_civitdl.txt");
  testing::expect_sane(updates);
  ASSERT_GE(updates.size(), 5u);
  EXPECT_EQ(updates[0].kind, Kind::kStageStart);
  EXPECT_EQ(updates[0].name, "Some LoRA");
  EXPECT_EQ(updates[0].stage, "");

  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_EQ(progress.size(), 2u);
  EXPECT_EQ(progress[0].stage, "images");
  EXPECT_EQ(progress[0].percent, 100.0);
  EXPECT_EQ(progress[0].message, "3/3 images");
  EXPECT_FALSE(progress[0].downloaded) << "the Images bar counts files";
  EXPECT_EQ(progress[1].stage, "model");
  EXPECT_EQ(progress[1].name, "Some LoRA");
  EXPECT_EQ(progress[1].percent, 45.0);
  EXPECT_EQ(progress[1].downloaded, 1010000000u) << "1.01G, 1000-based";
  EXPECT_EQ(progress[1].total, 2230000000u);
  expect_near_relative(*progress[1].speed, 50.0e6);  // "50.0MiB/s" is 1000-based too
  EXPECT_EQ(progress[1].elapsed_seconds, 20);
  EXPECT_EQ(progress[1].remaining_seconds, 24);

  const auto done = of_kind(updates, Kind::kStageComplete);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].name, "Some LoRA");
  const auto messages = of_kind(updates, Kind::kMessage);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].stage, "cache");
  EXPECT_EQ(messages[0].message, "Cache of model with version id 1900322 not found.");
  EXPECT_EQ(messages[1].message, "Model Directory Path: /root/models/loras/Some LoRA");
  EXPECT_TRUE(of_kind(updates, Kind::kError).empty());
}

// The stand-in's output with colours and the real tqdm's Model frames.
TEST(CivitdlParser, ReadsColouredOutputWithRedrawnBars) {
  const auto updates = parse("civitdl_standin_tqdm.txt");
  testing::expect_sane(updates);
  ASSERT_EQ(of_kind(updates, Kind::kStageStart).size(), 1u);
  std::vector<ProgressUpdate> model;
  for (const auto& u : of_kind(updates, Kind::kProgress)) {
    if (u.stage == "model") model.push_back(u);
  }
  ASSERT_EQ(model.size(), 17u);
  EXPECT_EQ(model[1].percent, 7.0);
  EXPECT_EQ(model[1].downloaded, 133000u);
  EXPECT_EQ(model.back().downloaded, 2000000u);
  EXPECT_EQ(model.back().total, 2000000u);
  for (const auto& u : model) EXPECT_EQ(u.name, "Standin Model 1678575");
  ASSERT_EQ(of_kind(updates, Kind::kStageComplete).size(), 1u);
  EXPECT_EQ(of_kind(updates, Kind::kStageComplete)[0].name, "Standin Model 1678575");
}

TEST(CivitdlParser, DoesNotCareHowTheOutputIsCut) {
  const auto whole = parse("civitdl_standin_tqdm.txt");
  testing::expect_same_updates(parse("civitdl_standin_tqdm.txt", 1), whole);
  testing::expect_same_updates(parse("civitdl_standin_401.txt", 5),
                               parse("civitdl_standin_401.txt"));
}

// The API-key failure, printed as civitdl prints it (exception on stderr).
TEST(CivitdlParser, ReportsTheApiKeyFailureAndTheGivingUp) {
  const auto updates = parse("civitdl_standin_401.txt");
  const auto errors = of_kind(updates, Kind::kError);
  ASSERT_EQ(errors.size(), 5u) << "four attempts, then Max retry";
  EXPECT_EQ(errors[0].message.rfind("InputException (Bad Inputs): Unable to download this model as "
                                    "it requires a valid API Key.",
                                    0),
            0u)
      << errors[0].message;
  EXPECT_NE(errors[0].message.find("civitconfig default --api-key"), std::string::npos);
  EXPECT_EQ(errors[0].name, "Standin Model 401");
  EXPECT_EQ(errors[4].message, "Max retry of 3 reached. Skipping the current model...");
  EXPECT_TRUE(of_kind(updates, Kind::kStageComplete).empty());
  EXPECT_EQ(of_kind(updates, Kind::kMessage).size(), 3u) << "three 'Retrying' lines";
}

TEST(CivitdlParser, ReportsEarlyAccessAsAnApiError) {
  const auto updates = parse("civitdl_standin_403.txt");
  const auto errors = of_kind(updates, Kind::kError);
  ASSERT_EQ(errors.size(), 5u);
  EXPECT_EQ(errors[0].message,
            "APIException (API Status Code 403): Downloading model from CivitAI failed for model "
            "id, 403, and version id, 100403");
  const auto messages = of_kind(updates, Kind::kMessage);
  ASSERT_GE(messages.size(), 3u);
  EXPECT_EQ(messages[0].message.rfind("Model is behind CivitAI's early access restriction", 0), 0u);
  EXPECT_EQ(messages[1].message, "Deadline: 2026-12-01T00:00:00.000Z");
}

TEST(CivitdlParser, ReportsAnUnexpectedExceptionBetweenTheRules) {
  const auto updates = run_new<CivitdlParser>(
      "---------\n\x1b[31mHTTPSConnectionPool(host='civitai.com', port=443): Read timed "
      "out.\x1b[0m "
      "\n\n---------\n",
      0);
  const auto errors = of_kind(updates, Kind::kError);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message,
            "HTTPSConnectionPool(host='civitai.com', port=443): Read timed out.");
}

// Runs tests/support/civitdl-standin and parses its output as it arrives.
TEST(CivitdlStandin, DownloadsAFileWhileTheParserFollows) {
  if (std::system("command -v python3 >/dev/null 2>&1") != 0) GTEST_SKIP() << "no python3";
  const std::filesystem::path script = standin_script();
  ASSERT_TRUE(std::filesystem::exists(script)) << script;
  char pattern[] = "/tmp/civitdl-standin-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::filesystem::path dest = std::filesystem::path(pattern) / "loras";

  const std::string command = "CIVITDL_STANDIN_SECONDS=0.5 CIVITDL_STANDIN_SIZE=300000 python3 '" +
                              script.string() + "' 4242 '" + dest.string() + "' --api-key k 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  CivitdlParser parser;
  std::vector<ProgressUpdate> updates;
  char buffer[97];  // an odd size cuts lines and escape codes anywhere
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    auto part = parser.feed(std::string_view(buffer, got));
    updates.insert(updates.end(), part.begin(), part.end());
  }
  auto rest = parser.finish();
  updates.insert(updates.end(), rest.begin(), rest.end());
  const int status = pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  ASSERT_FALSE(updates.empty());
  EXPECT_EQ(updates.front().kind, Kind::kStageStart);
  EXPECT_EQ(updates.front().name, "Standin Model 4242");
  std::optional<std::uint64_t> last_model_bytes;
  for (const auto& u : of_kind(updates, Kind::kProgress)) {
    if (u.stage == "model") {
      EXPECT_EQ(u.total, 300000u);
      last_model_bytes = u.downloaded;
    }
  }
  EXPECT_EQ(last_model_bytes, 300000u);
  ASSERT_EQ(of_kind(updates, Kind::kStageComplete).size(), 1u);
  EXPECT_TRUE(of_kind(updates, Kind::kError).empty());
  const auto file = dest / "standin_model_4242-mid_4242-vid_104242.safetensors";
  ASSERT_TRUE(std::filesystem::exists(file));
  EXPECT_EQ(std::filesystem::file_size(file), 300000u);
  std::filesystem::remove_all(pattern);
}

TEST(CivitdlStandin, FailsTheApiKeyCheckForModel401) {
  if (std::system("command -v python3 >/dev/null 2>&1") != 0) GTEST_SKIP() << "no python3";
  const std::filesystem::path script = standin_script();
  FILE* pipe =
      popen(("python3 '" + script.string() + "' 401 /tmp/unused-standin-dir 2>&1").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[256];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, got);
  const int status = pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
  const auto updates = run_new<CivitdlParser>(output, 0);
  ASSERT_FALSE(of_kind(updates, Kind::kError).empty());
  EXPECT_NE(of_kind(updates, Kind::kError)[0].message.find("requires a valid API Key"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists("/tmp/unused-standin-dir"));
}

}  // namespace
}  // namespace haul::remote::progress
