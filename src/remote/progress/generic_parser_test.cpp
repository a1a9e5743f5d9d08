#include "remote/progress/generic_parser.hpp"

#include <gtest/gtest.h>

#include "remote/progress/progress_test_support.hpp"

namespace haul::remote::progress {
namespace {

using Kind = ProgressUpdate::Kind;
using testing::of_kind;
using testing::run_new;

TEST(GenericParser, ReportsPercentagesAndTheLastLine) {
  const auto updates = run_new<GenericParser>(
      "Cloning into 'ComfyUI'...\n"
      "Receiving objects:  45% (450/1000)\rReceiving objects: 100% (1000/1000), done.\n",
      0);
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_EQ(progress.size(), 2u);
  EXPECT_EQ(progress[0].percent, 45.0);
  EXPECT_EQ(progress[1].percent, 100.0);
  EXPECT_EQ(progress[0].stage, "run");
  const auto messages = of_kind(updates, Kind::kMessage);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages.front().message, "Cloning into 'ComfyUI'...");
  EXPECT_EQ(messages.back().message, "Receiving objects: 100% (1000/1000), done.");
}

TEST(GenericParser, ReportsLinesWithoutPercentAsMessagesOnly) {
  const auto updates = run_new<GenericParser>("\x1b[32mstep 1\x1b[0m\n\n   \nstep 2", 3);
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[0].kind, Kind::kMessage);
  EXPECT_EQ(updates[0].message, "step 1");
  EXPECT_EQ(updates[1].message, "step 2") << "the unterminated last line counts at finish()";
}

TEST(GenericParser, KeepsTokensOutOfMessages) {
  const auto updates = run_new<GenericParser>("GET https://h/x?token=SECRET 50%\n", 0);
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[1].message, "GET https://h/x 50%");
}

TEST(GenericParser, IgnoresNumbersThatAreNoPercentages) {
  const auto updates = run_new<GenericParser>("id1% 250%\n", 0);
  EXPECT_TRUE(of_kind(updates, Kind::kProgress).empty());
}

TEST(GenericParser, ReadsToolsItDoesNotKnowFromTheirCapturedOutput) {
  // aria2c output through the generic parser still shows the percentages.
  const auto updates = run_new<GenericParser>(testing::read_testdata("aria2c_download.txt"), 0);
  const auto progress = of_kind(updates, Kind::kProgress);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.front().percent, 24.0);
  EXPECT_EQ(progress.back().percent, 99.0);
  testing::expect_sane(updates);
}

}  // namespace
}  // namespace haul::remote::progress
