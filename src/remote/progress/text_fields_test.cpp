#include "remote/progress/text_fields.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace haul::remote::progress {
namespace {

TEST(ParseScaled, ReadsPrefixesInTheGivenBase) {
  EXPECT_DOUBLE_EQ(parse_scaled("5859k", 1024).value(), 5859.0 * 1024);
  EXPECT_DOUBLE_EQ(parse_scaled("5.72M", 1024).value(), 5.72 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(parse_scaled("8.12G", 1000).value(), 8.12e9);
  EXPECT_DOUBLE_EQ(parse_scaled("307.00K", 1024).value(), 307.0 * 1024);
  EXPECT_DOUBLE_EQ(parse_scaled("0", 1024).value(), 0.0);
  EXPECT_DOUBLE_EQ(parse_scaled("12", 1000).value(), 12.0);
}

TEST(ParseScaled, RejectsWhatIsNoScaledNumber) {
  EXPECT_FALSE(parse_scaled("", 1024));
  EXPECT_FALSE(parse_scaled("M", 1024));
  EXPECT_FALSE(parse_scaled("1.2.3", 1024));
  EXPECT_FALSE(parse_scaled("-5k", 1024));
  EXPECT_FALSE(parse_scaled("5kB", 1024));
  EXPECT_FALSE(parse_scaled("--:--:--", 1024));
}

TEST(ToByteCount, RoundsAndRefusesWhatDoesNotFit) {
  EXPECT_EQ(to_byte_count(1.6), 2u);
  EXPECT_EQ(to_byte_count(0), 0u);
  EXPECT_FALSE(to_byte_count(-1));
  EXPECT_FALSE(to_byte_count(std::numeric_limits<double>::infinity()));
  EXPECT_FALSE(to_byte_count(std::nan("")));
  EXPECT_FALSE(to_byte_count(1e20));
}

TEST(ParseClock, ReadsMinutesAndHours) {
  EXPECT_EQ(parse_clock("00:30"), 30);
  EXPECT_EQ(parse_clock("1:02:03"), 3723);
  EXPECT_EQ(parse_clock(" 0:00:03"), 3);
  EXPECT_EQ(parse_clock("100:00:00"), 360000);
  EXPECT_FALSE(parse_clock("?"));
  EXPECT_FALSE(parse_clock("--:--:--"));
  EXPECT_FALSE(parse_clock("12"));
  EXPECT_FALSE(parse_clock("1:2:3:4"));
  EXPECT_FALSE(parse_clock(""));
}

TEST(ParseUnitDuration, ReadsWgetAndAria2Durations) {
  EXPECT_EQ(parse_unit_duration("45s"), 45);
  EXPECT_EQ(parse_unit_duration("2.8s"), 3);
  EXPECT_EQ(parse_unit_duration("1m30s"), 90);
  EXPECT_EQ(parse_unit_duration("36m 51s"), 2211) << "wget's bar puts a space in";
  EXPECT_EQ(parse_unit_duration("2h5m"), 7500);
  EXPECT_EQ(parse_unit_duration("3d4h"), 273600);
  EXPECT_EQ(parse_unit_duration("6m10s"), 370);
  EXPECT_FALSE(parse_unit_duration(""));
  EXPECT_FALSE(parse_unit_duration("5"));
  EXPECT_FALSE(parse_unit_duration("5x"));
  EXPECT_FALSE(parse_unit_duration("s"));
}

TEST(FindPercent, TakesTheLastPercentage) {
  EXPECT_EQ(find_percent("Receiving objects:  45% (450/1000)"), 45.0);
  EXPECT_EQ(find_percent("a 10% b 27.5%"), 27.5);
  EXPECT_FALSE(find_percent("no percent here"));
  EXPECT_FALSE(find_percent("150%"));
  EXPECT_FALSE(find_percent("x1%")) << "a number glued to a word is no percentage";
  EXPECT_FALSE(find_percent("%"));
}

TEST(BaseName, KeepsTheLastComponent) {
  EXPECT_EQ(base_name("out/model.safetensors"), "model.safetensors");
  EXPECT_EQ(base_name("model.safetensors"), "model.safetensors");
  EXPECT_EQ(base_name("/a/b/"), "b");
  EXPECT_EQ(base_name(""), "");
}

TEST(CleanMessage, RemovesUrlQueriesThatCanHoldTokens) {
  EXPECT_EQ(clean_message("  GET https://civitai.com/api/download/models/1?token=SECRET ok "),
            "GET https://civitai.com/api/download/models/1 ok");
  EXPECT_EQ(clean_message("URI=http://h/x?X-Amz-Signature=abc#frag"), "URI=http://h/x");
  EXPECT_EQ(clean_message("'HTTPS://H/A?k=v'"), "'HTTPS://H/A'");
  EXPECT_EQ(clean_message("no url?here"), "no url?here");
}

TEST(CleanMessage, CapsTheLengthOnACharacterBoundary) {
  std::string text(ProgressUpdate::kMaxMessageBytes - 1, 'a');
  text += "\xE2\x96\x88\xE2\x96\x88";  // two 3-byte characters across the limit
  const std::string cleaned = clean_message(text);
  EXPECT_EQ(cleaned.size(), ProgressUpdate::kMaxMessageBytes - 1);
  EXPECT_EQ(cleaned, std::string(ProgressUpdate::kMaxMessageBytes - 1, 'a'));
}

TEST(IsRule, RecognisesSeparatorLines) {
  EXPECT_TRUE(is_rule("---------"));
  EXPECT_TRUE(is_rule("======+====+===="));
  EXPECT_FALSE(is_rule(""));
  EXPECT_FALSE(is_rule("-- x --"));
}

TEST(Tidy, KeepsUpdatesWithinTheirInvariants) {
  ProgressUpdate u;
  u.percent = 101;
  u.downloaded = 10;
  u.total = 5;
  u.speed = -1;
  u.remaining_seconds = -3;
  tidy(u);
  EXPECT_EQ(u.percent, 100.0);
  EXPECT_EQ(u.downloaded, 5u);
  EXPECT_FALSE(u.speed);
  EXPECT_FALSE(u.remaining_seconds);
  u.percent = std::nan("");
  tidy(u);
  EXPECT_FALSE(u.percent);
}

}  // namespace
}  // namespace haul::remote::progress
