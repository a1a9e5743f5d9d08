#include "remote/progress/curl_parser.hpp"

#include <gtest/gtest.h>

#include <cstdio>

#include "remote/progress/progress_test_support.hpp"

namespace haul::remote::progress {
namespace {

using Kind = ProgressUpdate::Kind;
using testing::expect_near_relative;
using testing::of_kind;
using testing::read_testdata;
using testing::run_new;

constexpr double kKiB = 1024.0;
constexpr double kMiB = 1024.0 * 1024.0;

std::vector<ProgressUpdate> parse(std::string_view fixture, std::size_t chunk = 0) {
  return run_new<CurlParser>(read_testdata(fixture), chunk, "a.bin");
}

// A meter line of curl 8.18 and later, built with its format: fields joined
// by one space, sizes 6 wide (max6data: "46.52M", "195.3k"), times 7 wide
// ("  00:59", "1:01:01", "10h 02m", " 4d 04h", "    33m" months, blank when
// unknown). Not captured: the curl installed here is 7.88; the field formats
// are those of curl's unit test 1636.
std::string new_layout(const char* pct_total, const char* total, const char* pct_received,
                       const char* received, const char* average, const char* time_total,
                       const char* spent, const char* left, const char* current) {
  char line[160];
  std::snprintf(line, sizeof line, "%3s %6s %3s %6s %3s %6s %6s %6s %7s %7s %7s %6s", pct_total,
                total, pct_received, received, "0", "0", average, "0", time_total, spent, left,
                current);
  return line;
}

// Captured: curl -o out/a.bin URL from a server sending 1.5 MB/s.
TEST(CurlParser, ReadsTheMeter) {
  const auto updates = parse("curl_meter.txt");
  testing::expect_sane(updates);
  const auto starts = of_kind(updates, Kind::kStageStart);
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].name, "a.bin");
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_EQ(progress.size(), 6u);
  EXPECT_FALSE(progress[0].total) << "the first frame is all zeros";
  EXPECT_EQ(progress[1].percent, 7.0);
  EXPECT_EQ(progress[1].downloaded, 416u * 1024);
  EXPECT_EQ(progress[1].total, 5859u * 1024);
  expect_near_relative(*progress[1].speed, 1501 * kKiB);
  EXPECT_FALSE(progress[1].elapsed_seconds) << "--:--:--";
  EXPECT_EQ(progress[1].remaining_seconds, 3);
  EXPECT_EQ(progress[2].elapsed_seconds, 1);
  EXPECT_EQ(progress[2].remaining_seconds, 2);
  EXPECT_EQ(progress.back().percent, 100.0);
  EXPECT_EQ(progress.back().elapsed_seconds, 4);
  const auto done = of_kind(updates, Kind::kStageComplete);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].downloaded, 5859u * 1024);
  EXPECT_EQ(done[0].name, "a.bin");
}

TEST(CurlParser, DoesNotCareHowTheOutputIsCut) {
  testing::expect_same_updates(parse("curl_meter.txt", 1), parse("curl_meter.txt"));
  testing::expect_same_updates(parse("curl_bar.txt", 5), parse("curl_bar.txt"));
}

// Captured: no Content-Length; curl then shows Total = Received and 0%.
TEST(CurlParser, ReadsTheMeterWithoutALength) {
  const auto updates = parse("curl_meter_no_length.txt");
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_EQ(progress.size(), 6u);
  for (const auto& u : progress) {
    EXPECT_FALSE(u.total);
    EXPECT_FALSE(u.percent);
  }
  EXPECT_EQ(progress[1].downloaded, 384u * 1024);
  const auto done = of_kind(updates, Kind::kStageComplete);
  ASSERT_EQ(done.size(), 1u) << "the final frame and no error: done at the end of output";
  EXPECT_EQ(done[0].downloaded, 5859u * 1024);
}

// Captured: curl -C - on a partial file: the meter counts only the rest.
TEST(CurlParser, AddsTheResumeOffset) {
  const auto updates = parse("curl_meter_resume.txt");
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_EQ(progress.size(), 4u);
  EXPECT_EQ(progress[1].downloaded, 2500000u + 1488u * 1024);
  EXPECT_EQ(progress[1].total, 2500000u + 3417u * 1024);
  EXPECT_EQ(progress[1].percent, 67.0) << "of the whole file, not the 43% of the rest";
  const auto done = of_kind(updates, Kind::kStageComplete);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].downloaded, 2500000u + 3417u * 1024);
}

// Captured: curl -# (bar), sized and unsized.
TEST(CurlParser, ReadsTheBar) {
  const auto updates = parse("curl_bar.txt");
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_GT(progress.size(), 30u);
  EXPECT_EQ(progress[0].percent, 2.7);
  EXPECT_EQ(progress.back().percent, 100.0);
  EXPECT_FALSE(progress[0].downloaded);
  ASSERT_EQ(of_kind(updates, Kind::kStageStart).size(), 1u);
  ASSERT_EQ(of_kind(updates, Kind::kStageComplete).size(), 1u);

  const auto unsized = parse("curl_bar_no_length.txt");
  EXPECT_TRUE(of_kind(unsized, Kind::kProgress).empty()) << "the flying ship says nothing";
  EXPECT_EQ(of_kind(unsized, Kind::kStageStart).size(), 1u);
  EXPECT_EQ(of_kind(unsized, Kind::kStageComplete).size(), 1u);
  EXPECT_TRUE(of_kind(unsized, Kind::kMessage).empty());
}

// Captured the way the remote runner runs commands: `script -qfec` with a
// 200-column terminal (curl 7.88.1): the same meter with "\r\n" line ends;
// the -# bar stays 80 columns wide.
TEST(CurlParser, ReadsTheMeterAndBarOnTheRunnersTerminal) {
  const auto updates = parse("curl_pty_meter.txt");
  testing::expect_sane(updates);
  ASSERT_EQ(of_kind(updates, Kind::kStageStart).size(), 1u);
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_EQ(progress.size(), 6u);
  EXPECT_EQ(progress[1].percent, 7.0);
  EXPECT_EQ(progress[1].downloaded, 432u * 1024);
  EXPECT_EQ(progress[1].total, 5859u * 1024);
  expect_near_relative(*progress[1].speed, 1500 * kKiB);
  EXPECT_EQ(progress.back().percent, 100.0);
  EXPECT_EQ(progress.back().elapsed_seconds, 4);
  ASSERT_EQ(of_kind(updates, Kind::kStageComplete).size(), 1u);
  EXPECT_TRUE(of_kind(updates, Kind::kMessage).empty());
  testing::expect_same_updates(parse("curl_pty_meter.txt", 3), updates);

  const auto bar = parse("curl_pty_bar.txt");
  const auto frames = of_kind(bar, Kind::kProgress);
  ASSERT_EQ(frames.size(), 37u);
  EXPECT_EQ(frames[0].percent, 2.7);
  EXPECT_EQ(frames.back().percent, 100.0);
  EXPECT_EQ(of_kind(bar, Kind::kStageComplete).size(), 1u);
}

// Captured: curl -f on a 404, and a refused connection.
TEST(CurlParser, ReportsErrorsAndDoesNotComplete) {
  const auto updates = parse("curl_404_fail.txt");
  const auto errors = of_kind(updates, Kind::kError);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "curl: (22) The requested URL returned error: 404");
  EXPECT_TRUE(of_kind(updates, Kind::kStageComplete).empty());

  const auto refused = parse("curl_connect_refused.txt");
  ASSERT_EQ(of_kind(refused, Kind::kError).size(), 1u);
  EXPECT_EQ(of_kind(refused, Kind::kError)[0].message,
            "curl: (7) Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to "
            "server");
  EXPECT_TRUE(of_kind(refused, Kind::kStageComplete).empty());
}

TEST(CurlParser, ReadsTheReferenceExample) {
  const auto updates = parse("reference_curl_meter.txt");
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_EQ(progress.size(), 3u);
  EXPECT_EQ(progress[1].percent, 24.0);
  EXPECT_EQ(progress[1].downloaded, 1407u * 1024);
  expect_near_relative(*progress[1].speed, 2043 * kKiB);
  EXPECT_EQ(progress[1].remaining_seconds, 2);
  EXPECT_EQ(of_kind(updates, Kind::kStageComplete).size(), 1u);
}

TEST(CurlParser, ReadsTheLayoutOfCurl818) {
  const std::string data =
      "  % Total    % Received % Xferd  Average Speed  Time    Time    Time   Current\n"
      "                                 Dload  Upload  Total   Spent   Left   Speed\n"
      "\r" +
      new_layout("0", "0", "0", "0", "0", "", "", "", "0") + "\r" +
      new_layout("24", "5.72M", "24", "1.37M", "1.99M", "  00:02", "", "  00:02", "1.99M") + "\r" +
      new_layout("57", "46.52M", "57", "26.51M", "195.3k", "1:01:01", "10h 02m", " 4d 04h",
                 "97.65k") +
      "\r" +
      new_layout("100", "46.52M", "100", "46.52M", "1.50M", "  00:31", "  00:31", "", "1.49M") +
      "\n";
  const auto updates = run_new<CurlParser>(data, 0);
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_EQ(progress.size(), 4u);
  EXPECT_EQ(progress[1].percent, 24.0);
  EXPECT_EQ(progress[1].downloaded, static_cast<std::uint64_t>(1.37 * kMiB + 0.5));
  EXPECT_EQ(progress[1].total, static_cast<std::uint64_t>(5.72 * kMiB + 0.5));
  expect_near_relative(*progress[1].speed, 1.99 * kMiB);
  EXPECT_FALSE(progress[1].elapsed_seconds) << "a blank column";
  EXPECT_EQ(progress[1].remaining_seconds, 2);
  EXPECT_EQ(progress[2].elapsed_seconds, 10 * 3600 + 2 * 60);
  EXPECT_EQ(progress[2].remaining_seconds, 4 * 86400 + 4 * 3600);
  expect_near_relative(*progress[2].speed, 97.65 * kKiB);
  EXPECT_EQ(progress[3].elapsed_seconds, 31);
  EXPECT_FALSE(progress[3].remaining_seconds);
  EXPECT_EQ(of_kind(updates, Kind::kStageComplete).size(), 1u);
}

TEST(ParseCurlTime, ReadsBothLayouts) {
  EXPECT_EQ(parse_curl_time(" 0:00:03"), 3);
  EXPECT_EQ(parse_curl_time("12:34:56"), 12 * 3600 + 34 * 60 + 56);
  EXPECT_EQ(parse_curl_time("  4d 04h"), 4 * 86400 + 4 * 3600);
  EXPECT_EQ(parse_curl_time("   1234d"), 1234 * 86400);
  EXPECT_EQ(parse_curl_time("  00:59"), 59);
  EXPECT_EQ(parse_curl_time("1:01:01"), 3661);
  EXPECT_EQ(parse_curl_time("99h 59m"), 99 * 3600 + 59 * 60);
  EXPECT_EQ(parse_curl_time("   100d"), 100 * 86400);
  EXPECT_EQ(parse_curl_time("    33m"), 33 * 30 * 86400) << "a lone 'm' counts months";
  EXPECT_EQ(parse_curl_time("    82y"), std::int64_t{82} * 365 * 86400);
  EXPECT_FALSE(parse_curl_time("--:--:--"));
  EXPECT_FALSE(parse_curl_time("       "));
  EXPECT_FALSE(parse_curl_time(">99999y"));
}

TEST(ParseCurlMeter, RejectsOtherLines) {
  EXPECT_FALSE(parse_curl_meter("  % Total    % Received % Xferd  Average Speed   Time"));
  EXPECT_FALSE(parse_curl_meter("                                 Dload  Upload   Total   Spent"));
  EXPECT_FALSE(parse_curl_meter("curl: (22) The requested URL returned error: 404"));
  EXPECT_FALSE(parse_curl_meter("1 2 3 4 5 6 7 8"));
  EXPECT_TRUE(parse_curl_meter(
      " 24 5859k   24 1407k    0     0  2045k      0  0:00:02 --:--:--  0:00:02 2043k"));
}

}  // namespace
}  // namespace haul::remote::progress
