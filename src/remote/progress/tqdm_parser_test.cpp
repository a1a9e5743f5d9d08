#include "remote/progress/tqdm_parser.hpp"

#include <gtest/gtest.h>

#include "remote/progress/progress_test_support.hpp"

namespace haul::remote::progress {
namespace {

using Kind = ProgressUpdate::Kind;
using testing::expect_near_relative;
using testing::of_kind;
using testing::read_testdata;
using testing::run_new;

std::vector<ProgressUpdate> parse(std::string_view fixture, std::size_t chunk = 0) {
  return run_new<TqdmParser>(read_testdata(fixture), chunk);
}

std::vector<ProgressUpdate> named(const std::vector<ProgressUpdate>& updates, Kind kind,
                                  std::string_view name) {
  std::vector<ProgressUpdate> out;
  for (const auto& u : of_kind(updates, kind)) {
    if (u.name == name) out.push_back(u);
  }
  return out;
}

// Rendered with the real tqdm 4.64.1 and huggingface_hub's arguments
// (unit="B", unit_scale=True, desc=file name), then "Fetching 3 files".
TEST(TqdmParser, ReadsHuggingFaceDownloadBars) {
  const auto updates = parse("tqdm_hf_download.txt");
  testing::expect_sane(updates);
  const auto starts = named(updates, Kind::kStageStart, "model.safetensors");
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].stage, "download");
  EXPECT_EQ(starts[0].total, 8120000000u);
  const auto progress = named(updates, Kind::kProgress, "model.safetensors");
  ASSERT_EQ(progress.size(), 27u);
  EXPECT_EQ(progress[0].percent, 0.0);
  EXPECT_EQ(progress[0].downloaded, 0u);
  EXPECT_FALSE(progress[0].speed) << "?B/s";
  EXPECT_FALSE(progress[0].remaining_seconds) << "<?";
  EXPECT_EQ(progress[1].percent, 4.0);
  EXPECT_EQ(progress[1].downloaded, 325000000u) << "1000-based: 325M";
  expect_near_relative(*progress[1].speed, 2.89e9);
  EXPECT_EQ(progress[1].remaining_seconds, 2);
  EXPECT_EQ(progress.back().downloaded, 8120000000u);
  const auto done = named(updates, Kind::kStageComplete, "model.safetensors");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].percent, 100.0);

  const auto truncated = named(updates, Kind::kStageComplete,
                               "(\xE2\x80\xA6)encoder/model-00001-of-00002.safetensors");
  ASSERT_EQ(truncated.size(), 1u) << "huggingface_hub shortens long names with (…)";
  EXPECT_EQ(truncated[0].total, 1230000u);

  const auto files = named(updates, Kind::kProgress, "Fetching 3 files");
  ASSERT_EQ(files.size(), 5u);
  EXPECT_EQ(files[0].stage, "files");
  EXPECT_EQ(files[1].percent, 33.0);
  EXPECT_FALSE(files[1].downloaded) << "a count of files, not bytes";
  EXPECT_EQ(named(updates, Kind::kStageComplete, "Fetching 3 files").size(), 1u);
  const auto messages = of_kind(updates, Kind::kMessage);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].message,
            "/root/.cache/huggingface/hub/models--org--repo/snapshots/0123abcd/model.safetensors");
}

TEST(TqdmParser, DoesNotCareHowTheOutputIsCut) {
  const auto whole = parse("tqdm_hf_download.txt");
  testing::expect_same_updates(parse("tqdm_hf_download.txt", 1), whole);
  testing::expect_same_updates(parse("tqdm_hf_download.txt", 7), whole);
  testing::expect_same_updates(parse("tqdm_no_total.txt", 1), parse("tqdm_no_total.txt"));
}

// Real tqdm with civitdl's arguments and no total: "Model: 126MiB [00:01, 69.8MiB/s]".
TEST(TqdmParser, ReadsABarWithoutTotal) {
  const auto updates = parse("tqdm_no_total.txt");
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_EQ(progress.size(), 14u) << "every frame, close() repeating the last";
  EXPECT_EQ(progress[0].downloaded, 0u);
  EXPECT_EQ(progress[1].downloaded, 10500000u) << "10.5MiB is 1000-based in tqdm";
  expect_near_relative(*progress[1].speed, 69.9e6);
  for (const auto& u : progress) {
    EXPECT_FALSE(u.total);
    EXPECT_FALSE(u.percent);
  }
  const auto done = of_kind(updates, Kind::kStageComplete);
  ASSERT_EQ(done.size(), 1u) << "closed without a total";
  EXPECT_EQ(done[0].downloaded, 126000000u);
}

TEST(TqdmParser, ReadsAsciiBarsAndSlowRates) {
  const auto ascii = of_kind(parse("tqdm_ascii.txt"), Kind::kProgress);
  ASSERT_EQ(ascii.size(), 12u);
  EXPECT_EQ(ascii[1].percent, 10.0);
  EXPECT_EQ(ascii[1].downloaded, 5000000u);
  EXPECT_EQ(ascii[1].total, 50000000u);

  const auto slow = of_kind(parse("tqdm_slow_rate.txt"), Kind::kProgress);
  ASSERT_EQ(slow.size(), 4u);
  expect_near_relative(*slow[1].speed, 1 / 1.30);  // "1.30s/iB"
  EXPECT_EQ(slow[1].elapsed_seconds, 1);
  EXPECT_EQ(slow[1].remaining_seconds, 1);
}

TEST(TqdmParser, ReadsTheReferenceExamples) {
  const auto updates = parse("reference_tqdm_hf.txt");
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_EQ(progress.size(), 3u);
  EXPECT_EQ(progress[1].percent, 45.0);
  EXPECT_EQ(progress[1].downloaded, 3650000000u);
  EXPECT_EQ(progress[1].total, 8120000000u);
  expect_near_relative(*progress[1].speed, 120e6);
  EXPECT_EQ(progress[1].elapsed_seconds, 30);
  EXPECT_EQ(progress[1].remaining_seconds, 37);
  EXPECT_EQ(progress[2].name, "Fetching 12 files");
  EXPECT_EQ(progress[2].percent, 42.0);
  EXPECT_TRUE(of_kind(updates, Kind::kStageComplete).empty()) << "no bar reached its end";

  const auto comfy = parse("reference_tqdm_comfy_cli.txt");
  const auto done = of_kind(comfy, Kind::kStageComplete);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].downloaded, 4850000000u);
  expect_near_relative(*done[0].speed, 172e6);
  EXPECT_EQ(done[0].elapsed_seconds, 28);
}

TEST(TqdmParser, ReadsTheXetLayout) {
  // hf_xet's "{l_bar}{bar}| {n_fmt:>5}B / {total_fmt:>5}B{postfix:>12}"
  // (reference §3), filled in by hand: no capture of hf_xet exists here.
  const auto frame = parse_tqdm_frame(
      "model.safetensors: downloading bytes:  45%|\xE2\x96\x88\xE2\x96\x88\xE2\x96\x88\xE2\x96\x88"
      "\xE2\x96\x8D     | 3.65GB / 8.12GB     120MB/s");
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->description, "model.safetensors: downloading bytes");
  EXPECT_EQ(frame->percent, 45.0);
  EXPECT_DOUBLE_EQ(frame->count.value(), 3.65e9);
  EXPECT_DOUBLE_EQ(frame->total.value(), 8.12e9);
  EXPECT_DOUBLE_EQ(frame->rate.value(), 120e6);
  EXPECT_TRUE(frame->bytes());
  EXPECT_FALSE(frame->bracketed);
}

TEST(TqdmParser, ReportsPythonErrors) {
  const auto updates = run_new<TqdmParser>(
      "Traceback (most recent call last):\n"
      "  File \"/usr/bin/hf\", line 8, in <module>\n"
      "huggingface_hub.errors.GatedRepoError: 401 Client Error. Cannot access gated repo\n"
      "Error: Repository not found\n",
      0);
  const auto errors = of_kind(updates, Kind::kError);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].message,
            "huggingface_hub.errors.GatedRepoError: 401 Client Error. Cannot access gated repo");
  EXPECT_EQ(errors[1].message, "Error: Repository not found");
  EXPECT_TRUE(of_kind(updates, Kind::kMessage).empty()) << "the traceback lines are noise";
}

TEST(TqdmParser, StartsAgainWhenABarIsReused) {
  const auto updates = run_new<TqdmParser>(
      "\rFetching 2 files: 100%|##########| 2/2 [00:01<00:00,  1.50it/s]\n"
      "\rFetching 2 files:   0%|          | 0/2 [00:00<?, ?it/s]"
      "\rFetching 2 files: 100%|##########| 2/2 [00:01<00:00,  1.50it/s]\n",
      0);
  EXPECT_EQ(of_kind(updates, Kind::kStageStart).size(), 2u);
  EXPECT_EQ(of_kind(updates, Kind::kStageComplete).size(), 2u);
}

TEST(ParseTqdmFrame, RejectsOtherText) {
  EXPECT_FALSE(parse_tqdm_frame("Downloading model.safetensors"));
  EXPECT_FALSE(parse_tqdm_frame("50%|#####"));
  EXPECT_FALSE(parse_tqdm_frame("x: 50%|#####     | 1/2 [00:01<00:01"));
  EXPECT_FALSE(parse_tqdm_frame("[00:01, 1.00it/s]")) << "a count is required";
  EXPECT_FALSE(parse_tqdm_frame("Model: 12MiB [later, 1.0MiB/s]"));
  const auto no_desc = parse_tqdm_frame(" 50%|#####     | 1/2 [00:01<00:01,  1.00it/s]");
  ASSERT_TRUE(no_desc);
  EXPECT_EQ(no_desc->description, "");
  EXPECT_EQ(no_desc->unit, "it");
}

}  // namespace
}  // namespace haul::remote::progress
