#include "remote/progress/aria2c_parser.hpp"

#include <gtest/gtest.h>

#include "remote/progress/progress_test_support.hpp"

namespace haul::remote::progress {
namespace {

using Kind = ProgressUpdate::Kind;
using testing::expect_near_relative;
using testing::of_kind;
using testing::read_testdata;
using testing::run_new;

constexpr double kMiB = 1024.0 * 1024.0;

std::vector<ProgressUpdate> parse(std::string_view fixture, std::size_t chunk = 0) {
  return run_new<Aria2cParser>(read_testdata(fixture), chunk, "model.safetensors");
}

std::uint64_t mib(double value) { return static_cast<std::uint64_t>(value * kMiB + 0.5); }

// Captured: aria2c -d out --summary-interval=1 URL, output to a file.
TEST(Aria2cParser, ReadsTheReadoutAndTheResults) {
  const auto updates = parse("aria2c_download.txt");
  testing::expect_sane(updates);
  const auto starts = of_kind(updates, Kind::kStageStart);
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].name, "model.safetensors");
  EXPECT_EQ(starts[0].total, mib(5.7));
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_EQ(progress.size(), 4u) << "the readouts inside the summary boxes are not repeated";
  EXPECT_EQ(progress[0].percent, 24.0);
  EXPECT_EQ(progress[0].downloaded, mib(1.4));
  EXPECT_EQ(progress[0].total, mib(5.7));
  expect_near_relative(*progress[0].speed, 1.4 * kMiB);
  EXPECT_EQ(progress[0].remaining_seconds, 3);
  EXPECT_EQ(progress[3].percent, 99.0);
  EXPECT_FALSE(progress[3].remaining_seconds) << "the last readout has no ETA";
  const auto done = of_kind(updates, Kind::kStageComplete);
  ASSERT_EQ(done.size(), 1u) << "the NOTICE and the results row name the same file";
  EXPECT_EQ(done[0].name, "model.safetensors");
  EXPECT_EQ(done[0].percent, 100.0);
  EXPECT_TRUE(of_kind(updates, Kind::kError).empty());
}

TEST(Aria2cParser, DoesNotCareHowTheOutputIsCut) {
  // Readouts are reported as soon as their ']' arrives; the set of updates is
  // the same however the bytes come.
  testing::expect_same_updates(parse("aria2c_download.txt", 1), parse("aria2c_download.txt"));
  testing::expect_same_updates(parse("aria2c_tty.txt", 3), parse("aria2c_tty.txt"));
}

// Captured on a pseudo-terminal: coloured readout redrawn with '\r' after a
// line of spaces, CRLF line ends.
TEST(Aria2cParser, ReadsTheTerminalReadout) {
  const auto updates = parse("aria2c_tty.txt");
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_EQ(progress.size(), 4u);
  EXPECT_EQ(progress[0].percent, 24.0);
  EXPECT_EQ(progress[0].remaining_seconds, 2);
  EXPECT_EQ(progress[3].percent, 99.0);
  EXPECT_EQ(of_kind(updates, Kind::kStageComplete).size(), 1u);
  for (const auto& u : of_kind(updates, Kind::kMessage)) {
    EXPECT_FALSE(u.message.empty()) << "the blank lines that clear the readout say nothing";
  }
}

// Captured the way the remote runner runs commands: `script -qfec` with a
// 200-column terminal (aria2c 1.36.0): a line of 199 spaces, then the
// coloured readout, each ended by '\r'; "\r\n" line ends.
TEST(Aria2cParser, ReadsTheReadoutOnTheRunnersTerminal) {
  const auto updates = parse("aria2c_pty_download.txt");
  testing::expect_sane(updates);
  const auto starts = of_kind(updates, Kind::kStageStart);
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].total, mib(5.7));
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_EQ(progress.size(), 4u);
  EXPECT_EQ(progress[0].percent, 24.0);
  EXPECT_EQ(progress[0].downloaded, mib(1.4));
  expect_near_relative(*progress[0].speed, 1.4 * kMiB);
  EXPECT_EQ(progress[0].remaining_seconds, 2);
  EXPECT_EQ(progress[3].percent, 99.0);
  const auto done = of_kind(updates, Kind::kStageComplete);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].name, "c.bin");
  for (const auto& u : of_kind(updates, Kind::kMessage)) EXPECT_FALSE(u.message.empty());
  testing::expect_same_updates(parse("aria2c_pty_download.txt", 3), updates);

  // Two items, the second unsized; the first renamed next to an existing file.
  const auto two = parse("aria2c_pty_two_items.txt");
  testing::expect_sane(two);
  const auto frames = of_kind(two, Kind::kProgress);
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[0].downloaded, mib(2.8));
  EXPECT_FALSE(frames[0].total) << "one item has no size";
  expect_near_relative(*frames[0].speed, 2.8 * kMiB);
  EXPECT_EQ(of_kind(two, Kind::kStageStart).size(), 2u);
  const auto complete = of_kind(two, Kind::kStageComplete);
  ASSERT_EQ(complete.size(), 2u);
  EXPECT_EQ(complete[0].name, "model.1.safetensors");
  EXPECT_EQ(complete[1].name, "big.bin");
}

// Captured: aria2c -Z with two URLs, the second without a Content-Length.
TEST(Aria2cParser, SumsSeveralItemsAndNamesThemFromTheSummary) {
  const auto updates = parse("aria2c_two_items.txt");
  const auto starts = of_kind(updates, Kind::kStageStart);
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[0].name, "model.safetensors");
  EXPECT_EQ(starts[1].name, "big.bin") << "named by the summary's FILE: line";
  EXPECT_FALSE(starts[1].total) << "1.4MiB/0B: size unknown";
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress[0].downloaded, mib(2.8));
  expect_near_relative(*progress[0].speed, 2.8 * kMiB);
  EXPECT_FALSE(progress[0].total) << "one item has no size";
  EXPECT_EQ(progress[0].message, "2 items");
  EXPECT_EQ(progress.back().name, "big.bin");
  EXPECT_EQ(progress.back().downloaded, mib(39));
  const auto done = of_kind(updates, Kind::kStageComplete);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].name, "model.safetensors");
  EXPECT_EQ(done[1].name, "big.bin");
}

// Captured: aria2c -c on a partial file.
TEST(Aria2cParser, ReadsAResumedDownload) {
  const auto progress = of_kind(parse("aria2c_resume.txt"), Kind::kProgress);
  ASSERT_EQ(progress.size(), 2u);
  EXPECT_EQ(progress[0].percent, 65.0);
  EXPECT_EQ(progress[0].downloaded, mib(3.7));
}

// Captured: a 404, and a server that answered a bounded Range with 0-.
TEST(Aria2cParser, ReportsTheInnermostErrorReason) {
  const auto updates = parse("aria2c_404.txt");
  const auto errors = of_kind(updates, Kind::kError);
  ASSERT_EQ(errors.size(), 1u) << "one error per failure, not one per line of it";
  EXPECT_EQ(errors[0].message, "errorCode=3 Resource not found");
  EXPECT_TRUE(of_kind(updates, Kind::kStageComplete).empty());
  for (const auto& u : updates) {
    EXPECT_EQ(u.message.find("ERR "), std::string::npos) << "the ERR row adds no second error";
  }

  const auto range = of_kind(parse("aria2c_range_error.txt"), Kind::kError);
  ASSERT_EQ(range.size(), 1u);
  EXPECT_EQ(range[0].message,
            "errorCode=8 Invalid range header. Request: 2490368-5999999/6000000, Response: "
            "0-5999999/6000000");
}

TEST(Aria2cParser, ReportsAnErrRowWhenNoReasonWasPrinted) {
  const auto updates = run_new<Aria2cParser>(
      "gid   |stat|avg speed  |path/URI\n"
      "======+====+===========+==========\n"
      "539494|ERR |       0B/s|https://h/missing.bin?token=SECRET\n\n",
      0);
  const auto errors = of_kind(updates, Kind::kError);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "download failed: https://h/missing.bin");
}

TEST(Aria2cParser, ReadsTheReferenceExample) {
  const auto updates = parse("reference_aria2c.txt");
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_EQ(progress.size(), 3u);
  EXPECT_EQ(progress[0].percent, 0.0);
  expect_near_relative(*progress[0].speed, 15 * 1024.0);
  EXPECT_EQ(progress[0].remaining_seconds, 370) << "6m10s";
  expect_near_relative(*progress[1].speed, 752 * 1024.0);
  expect_near_relative(*progress[2].speed, 0.9 * kMiB);
  const auto done = of_kind(updates, Kind::kStageComplete);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].name, "a.bin");
}

TEST(ParseAria2Readout, ReadsBothForms) {
  const auto one = parse_aria2_readout("[#aafdae 1.4MiB/5.7MiB(25%) CN:1 DL:752KiB ETA:5s]");
  ASSERT_TRUE(one);
  ASSERT_EQ(one->items.size(), 1u);
  EXPECT_EQ(one->items[0].gid, "aafdae");
  EXPECT_EQ(one->items[0].percent, 25.0);
  const auto many =
      parse_aria2_readout("[DL:2.8MiB][#74940e 1.4MiB/5.7MiB(24%)][#8ea645 1.4MiB/0B](+2)");
  ASSERT_TRUE(many);
  EXPECT_EQ(many->items.size(), 2u);
  EXPECT_FALSE(many->items[1].total);
  EXPECT_FALSE(parse_aria2_readout("[NOTICE] Downloading 1 item(s)"));
  EXPECT_FALSE(parse_aria2_readout("[#abc 1.4MiB]"));
  EXPECT_FALSE(parse_aria2_readout("[#aafdae 1.4MiB/5.7MiB(25%) CN:1"));
  EXPECT_EQ(parse_aria2_size("1,234MiB"), 1234 * kMiB);
  EXPECT_EQ(parse_aria2_size("0B"), 0.0);
  EXPECT_FALSE(parse_aria2_size("12XiB"));
}

}  // namespace
}  // namespace haul::remote::progress
