#include "remote/progress/wget_parser.hpp"

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
  return run_new<WgetParser>(read_testdata(fixture), chunk);
}

void expect_growing(const std::vector<ProgressUpdate>& progress) {
  for (std::size_t i = 1; i < progress.size(); ++i) {
    ASSERT_TRUE(progress[i].downloaded && progress[i - 1].downloaded);
    EXPECT_GE(*progress[i].downloaded, *progress[i - 1].downloaded) << "row " << i;
  }
}

// Captured: wget -P out URL --limit-rate=2m (stderr to a file: the default dot style).
TEST(WgetParser, ReadsTheDefaultDotStyle) {
  const auto updates = parse("wget_dot_default.txt");
  testing::expect_sane(updates);
  const auto starts = of_kind(updates, Kind::kStageStart);
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].name, "model.safetensors");
  EXPECT_EQ(starts[0].stage, "download");
  EXPECT_EQ(starts[0].total, 6000000u);

  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_EQ(progress.size(), 118u) << "one update per row of 50K";
  EXPECT_EQ(progress[0].percent, 0.0);
  EXPECT_EQ(progress[0].downloaded, 51200u);
  EXPECT_EQ(progress[0].total, 6000000u);
  expect_near_relative(*progress[0].speed, 272 * kMiB);
  EXPECT_EQ(progress[0].remaining_seconds, 0);
  EXPECT_EQ(progress[8].downloaded, 460800u);
  expect_near_relative(*progress[8].speed, 248 * 1024.0);  // "248K 2s"
  EXPECT_EQ(progress[8].remaining_seconds, 2);
  EXPECT_EQ(progress.back().percent, 100.0);
  EXPECT_EQ(progress.back().downloaded, 6000000u);
  EXPECT_EQ(progress.back().elapsed_seconds, 3) << "=2.7s";
  expect_growing(progress);

  const auto done = of_kind(updates, Kind::kStageComplete);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].downloaded, 6000000u);
  EXPECT_EQ(done[0].total, 6000000u);
  expect_near_relative(*done[0].speed, 2.14 * kMiB);  // "(2.14 MB/s)"
  EXPECT_TRUE(of_kind(updates, Kind::kError).empty());
}

TEST(WgetParser, DoesNotCareHowTheOutputIsCut) {
  const auto whole = parse("wget_dot_default.txt");
  testing::expect_same_updates(parse("wget_dot_default.txt", 1), whole);
  testing::expect_same_updates(parse("wget_dot_default.txt", 13), whole);
}

// Captured: wget --progress=dot:giga (1M dots, 32M rows) on a 40 MiB file.
TEST(WgetParser, ReadsTheGigaDotStyle) {
  const auto progress = of_kind(parse("wget_dot_giga.txt"), Kind::kProgress);
  ASSERT_EQ(progress.size(), 2u);
  EXPECT_EQ(progress[0].percent, 80.0);
  EXPECT_EQ(progress[0].downloaded, 32u * 1024 * 1024);
  expect_near_relative(*progress[0].speed, 8.15 * kMiB);
  EXPECT_EQ(progress[0].remaining_seconds, 1);
  EXPECT_EQ(progress[1].downloaded, 41943040u);
  EXPECT_EQ(progress[1].elapsed_seconds, 5) << "=4.9s";
}

// Captured: --progress=dot:mega (64K dots) and dot:binary (8K dots).
TEST(WgetParser, ReadsTheMegaAndBinaryDotStyles) {
  const auto mega = of_kind(parse("wget_dot_mega.txt"), Kind::kProgress);
  ASSERT_EQ(mega.size(), 14u);
  EXPECT_EQ(mega[0].downloaded, 3145728u) << "48 dots of 64K";
  EXPECT_EQ(mega[0].percent, 7.0);
  EXPECT_EQ(mega[1].downloaded, 6291456u);
  EXPECT_EQ(mega.back().downloaded, 41943040u);

  const auto binary = of_kind(parse("wget_dot_binary.txt"), Kind::kProgress);
  ASSERT_EQ(binary.size(), 16u);
  EXPECT_EQ(binary[0].downloaded, 393216u) << "48 dots of 8K";
  EXPECT_EQ(binary[1].downloaded, 786432u);
  EXPECT_EQ(binary.back().downloaded, 6000000u);
}

// Captured: a server that sends no Content-Length ("Length: unspecified").
TEST(WgetParser, ReadsDotsWithoutALength) {
  const auto updates = parse("wget_dot_no_length.txt");
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_FALSE(progress.empty());
  for (const auto& u : progress) {
    EXPECT_FALSE(u.percent);
    EXPECT_FALSE(u.total);
  }
  EXPECT_EQ(progress[0].downloaded, 51200u);
  expect_near_relative(*progress[0].speed, 173 * kMiB);
  EXPECT_EQ(progress.back().downloaded, 3145728u) << "3050K and 22 dots";
  const auto done = of_kind(updates, Kind::kStageComplete);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].downloaded, 3145728u) << "saved [3145728]";
  EXPECT_EQ(done[0].total, 3145728u);
}

// Captured: wget -c against a partial file: "Length: N (X), M (Y) remaining",
// "[ skipping 2400K ]" and a first row of ',' for bytes already there.
TEST(WgetParser, ReadsAResumedDownload) {
  const auto updates = parse("wget_dot_resume.txt");
  const auto starts = of_kind(updates, Kind::kStageStart);
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].total, 6000000u);
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress[0].percent, 41.0);
  EXPECT_EQ(progress[0].downloaded, 2508800u) << "2400K plus 50 dots, skipped ones included";
  EXPECT_EQ(progress.back().downloaded, 6000000u);
  expect_growing(progress);
}

// Captured: --progress=bar:force:noscroll, frames redrawn with '\r'.
TEST(WgetParser, ReadsTheBar) {
  const auto updates = parse("wget_bar_force_noscroll.txt");
  testing::expect_sane(updates);
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_EQ(progress.size(), 21u);
  EXPECT_EQ(progress[0].percent, 0.0);
  EXPECT_EQ(progress[0].downloaded, 0u);
  EXPECT_EQ(progress[0].speed, 0.0) << "--.-KB/s: nothing measured yet";
  EXPECT_EQ(progress[1].percent, 5.0);
  EXPECT_EQ(progress[1].downloaded, 307u * 1024);
  expect_near_relative(*progress[1].speed, 1.46 * kMiB);
  EXPECT_FALSE(progress[1].remaining_seconds) << "no eta before 3 s";
  EXPECT_EQ(progress[15].percent, 77.0);
  EXPECT_EQ(progress[15].remaining_seconds, 1);
  EXPECT_EQ(progress.back().percent, 100.0);
  EXPECT_EQ(progress.back().elapsed_seconds, 4) << "in 3.9s";
  for (const auto& u : progress) EXPECT_EQ(u.name, "model.safetensors");
  ASSERT_EQ(of_kind(updates, Kind::kStageComplete).size(), 1u);
}

// Captured on a pseudo-terminal (script): the default bar, CRLF line ends.
TEST(WgetParser, ReadsTheBarFromATerminal) {
  const auto updates = parse("wget_bar_tty.txt");
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_EQ(progress.size(), 21u);
  EXPECT_EQ(progress[1].downloaded, 312u * 1024);
  expect_near_relative(*progress[1].speed, 1.47 * kMiB);
  ASSERT_EQ(of_kind(updates, Kind::kStageComplete).size(), 1u);
  EXPECT_EQ(of_kind(updates, Kind::kStageComplete)[0].downloaded, 6000000u);
}

// Captured the way the remote runner runs commands: `script -qfec` with a
// 200-column terminal (wget 1.21.3): a wider bar, "\r\n" line ends.
TEST(WgetParser, ReadsTheBarOnTheRunnersTerminal) {
  const auto updates = parse("wget_pty_bar.txt");
  testing::expect_sane(updates);
  const auto starts = of_kind(updates, Kind::kStageStart);
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].name, "model.safetensors");
  EXPECT_EQ(starts[0].total, 6000000u);
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_EQ(progress.size(), 21u);
  EXPECT_EQ(progress[0].percent, 0.0);
  EXPECT_EQ(progress[0].speed, 0.0) << "--.-KB/s: every frame has a speed";
  EXPECT_EQ(progress[1].percent, 5.0);
  EXPECT_EQ(progress[1].downloaded, 312u * 1024);
  expect_near_relative(*progress[1].speed, 1.47 * kMiB);
  EXPECT_EQ(progress.back().percent, 100.0);
  EXPECT_EQ(progress.back().elapsed_seconds, 4) << "in 4.0s";
  for (const auto& u : progress) EXPECT_EQ(u.name, "model.safetensors");
  expect_growing(progress);
  const auto done = of_kind(updates, Kind::kStageComplete);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].downloaded, 6000000u);
  for (const auto& u : of_kind(updates, Kind::kMessage)) {
    EXPECT_EQ(u.message.find('\r'), std::string::npos);
    EXPECT_FALSE(u.message.empty());
  }
  testing::expect_same_updates(parse("wget_pty_bar.txt", 5), updates);

  const auto failed = parse("wget_pty_404.txt");
  const auto errors = of_kind(failed, Kind::kError);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "ERROR 404: Not Found.");
}

TEST(WgetParser, ReadsTheBarWithoutALength) {
  const auto progress = of_kind(parse("wget_bar_no_length.txt"), Kind::kProgress);
  ASSERT_FALSE(progress.empty());
  EXPECT_FALSE(progress[1].percent);
  EXPECT_EQ(progress[1].downloaded, 208u * 1024);
  expect_near_relative(*progress[1].speed, 1023 * 1024.0);  // "1023KB/s"
  EXPECT_EQ(progress.back().downloaded, 3u * 1024 * 1024);
  EXPECT_EQ(progress.back().elapsed_seconds, 3);
}

// Captured: the server answers 404.
TEST(WgetParser, ReportsAnHttpError) {
  const auto updates = parse("wget_404.txt");
  const auto errors = of_kind(updates, Kind::kError);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "ERROR 404: File not found.");
  EXPECT_EQ(errors[0].name, "missing.bin");
  EXPECT_TRUE(of_kind(updates, Kind::kStageStart).empty());
  EXPECT_TRUE(of_kind(updates, Kind::kStageComplete).empty());
}

// The verbatim examples of the reference (reference/civitai-and-tool-outputs.md §3).
TEST(WgetParser, ReadsTheReferenceExamples) {
  const auto updates = parse("reference_wget_dot.txt");
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_EQ(progress.size(), 3u);
  EXPECT_EQ(progress[1].downloaded, 102400u);
  expect_near_relative(*progress[1].speed, 301 * kMiB);
  EXPECT_EQ(progress[2].downloaded, 6000000u);
  EXPECT_EQ(progress[2].elapsed_seconds, 3);
  ASSERT_EQ(of_kind(updates, Kind::kStageComplete).size(), 1u);

  const auto inline_examples = of_kind(parse("reference_wget_inline.txt"), Kind::kProgress);
  ASSERT_EQ(inline_examples.size(), 3u);
  EXPECT_EQ(inline_examples[0].percent, 52.0);
  EXPECT_EQ(inline_examples[0].downloaded, 3145728u) << "dot:mega row of 48 dots";
  EXPECT_EQ(inline_examples[1].percent, 77.0);
  EXPECT_EQ(inline_examples[1].downloaded, static_cast<std::uint64_t>(4.46 * kMiB + 0.5));
  EXPECT_EQ(inline_examples[2].elapsed_seconds, 4);
}

TEST(WgetParser, LearnsADotLayoutOfItsOwnFromTheRowOffsets) {
  // .wgetrc can set dot_bytes, dot_spacing and dots_in_line: 2K dots, 5 per
  // cluster, 20 per row (40K rows) is none of the four styles.
  const auto progress =
      of_kind(run_new<WgetParser>("Length: 409600 (400K) [application/octet-stream]\n"
                                  "     0K ..... ..... ..... ..... 10% 1.00M 0s\n"
                                  "    40K ..... ..... ..... ..... 20% 1.00M 0s\n"
                                  "    80K ..                      20% 1.00M=0.1s\n",
                                  0),
              Kind::kProgress);
  ASSERT_EQ(progress.size(), 3u);
  EXPECT_EQ(progress[0].downloaded, 0u) << "the first row does not tell the dot size";
  EXPECT_EQ(progress[1].downloaded, 80u * 1024);
  EXPECT_EQ(progress[2].downloaded, 84u * 1024);
  EXPECT_EQ(progress[2].total, 409600u);
}

TEST(WgetParser, UsesTheNameHintUntilWgetNamesTheFile) {
  const auto updates = run_new<WgetParser>(
      "     0K .......... .......... .......... .......... ..........  0%  273M 0s\n", 0,
      "hint.bin");
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].name, "hint.bin");
}

TEST(WgetParser, ReportsOtherFailures) {
  const auto updates = run_new<WgetParser>(
      "Connecting to h (h)|10.0.0.1|:443... failed: Connection refused.\n"
      "wget: unable to resolve host address 'nohost'\n"
      "Username/Password Authentication Failed.\n"
      "Cannot write to 'x' (No space left on device).\n",
      0);
  const auto errors = of_kind(updates, Kind::kError);
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[3].message, "Cannot write to 'x' (No space left on device).");
}

TEST(WgetParser, TreatsAnAlreadyRetrievedFileAsDone) {
  const auto updates = run_new<WgetParser>(
      "    The file is already fully retrieved; nothing to do.\n\n", 0, "a.bin");
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].kind, Kind::kStageComplete);
  EXPECT_EQ(updates[0].name, "a.bin");
}

}  // namespace
}  // namespace haul::remote::progress
