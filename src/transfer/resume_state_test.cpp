#include "transfer/resume_state.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace haul::transfer {
namespace {

// ---- Validator ----------------------------------------------------------------

TEST(Validator, IfRangePrefersAStrongEtag) {
  Validator v{"\"abc123\"", "Sun, 06 Nov 1994 08:49:37 GMT", 100};
  EXPECT_TRUE(v.has_strong_etag());
  EXPECT_EQ(v.if_range(), "\"abc123\"");
}

TEST(Validator, IfRangeFallsBackToLastModifiedForAWeakEtag) {
  Validator v{"W/\"abc123\"", "Sun, 06 Nov 1994 08:49:37 GMT", 100};
  EXPECT_FALSE(v.has_strong_etag());
  EXPECT_EQ(v.if_range(), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(Validator, IfRangeFallsBackToLastModifiedWithoutAnEtag) {
  Validator v{"", "Sun, 06 Nov 1994 08:49:37 GMT", std::nullopt};
  EXPECT_FALSE(v.has_strong_etag());
  EXPECT_EQ(v.if_range(), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(Validator, IfRangeIsEmptyWithoutAnyUsableValidator) {
  EXPECT_EQ((Validator{}).if_range(), "");
  EXPECT_EQ((Validator{"W/\"weak\"", "", 5}).if_range(), "");
}

TEST(Validator, MatchesWhenKnownPropertiesAgree) {
  Validator a{"\"e1\"", "Mon", 100};
  EXPECT_TRUE(a.matches(a));
  EXPECT_TRUE(a.matches(Validator{"\"e1\"", "Tue", 100}))
      << "equal ETags decide; Last-Modified is not compared";
  EXPECT_TRUE(a.matches(Validator{"", "Mon", std::nullopt}));
  EXPECT_TRUE(a.matches(Validator{}));
  EXPECT_TRUE((Validator{}).matches(a));
}

TEST(Validator, DoesNotMatchWhenAKnownPropertyDiffers) {
  Validator a{"\"e1\"", "Mon", 100};
  EXPECT_FALSE(a.matches(Validator{"\"e1\"", "Mon", 101})) << "size";
  EXPECT_FALSE(a.matches(Validator{"\"e2\"", "Mon", 100})) << "etag";
  EXPECT_FALSE(a.matches(Validator{"W/\"e1\"", "Mon", 100})) << "weak vs strong";
  EXPECT_FALSE((Validator{"", "Mon", 100}).matches(Validator{"", "Tue", 100})) << "last-modified";
  EXPECT_FALSE((Validator{"", "Mon", 100}).matches(Validator{"", "", 7})) << "size alone";
}

TEST(Validator, LastModifiedIsComparedOnlyWhenEtagsAreMissing) {
  // One side has an ETag, the other does not: fall through to Last-Modified.
  EXPECT_FALSE(
      (Validator{"\"e1\"", "Mon", std::nullopt}).matches(Validator{"", "Tue", std::nullopt}));
  EXPECT_TRUE(
      (Validator{"\"e1\"", "Mon", std::nullopt}).matches(Validator{"", "Mon", std::nullopt}));
}

TEST(ValidatorFrom, ReadsEtagAndLastModifiedFromTheHead) {
  net::ResponseHead head;
  head.status = 200;
  head.headers = {{"etag", "W/\"x\""}, {"last-modified", "Wed, 21 Oct 2015 07:28:00 GMT"}};
  Validator v = validator_from(head, 42);
  EXPECT_EQ(v.etag, "W/\"x\"");
  EXPECT_EQ(v.last_modified, "Wed, 21 Oct 2015 07:28:00 GMT");
  EXPECT_EQ(v.size, 42u);

  Validator empty = validator_from(net::ResponseHead{}, std::nullopt);
  EXPECT_EQ(empty, Validator{});
}

// ---- serialize / parse ----------------------------------------------------------

ResumeState sample_state() {
  ResumeState state;
  state.validator = {"\"etag-\\\"quoted\\\"\"", "Sun, 06 Nov 1994 08:49:37 GMT", 10'000'000'000ull};
  state.done.add({0, 4'194'304});
  state.done.add({8'388'608, 9'000'000'000ull});
  state.done.add({9'999'999'000ull, 10'000'000'000ull});
  return state;
}

TEST(ResumeState, RoundTripsThroughText) {
  const ResumeState state = sample_state();
  const std::string text = serialize_resume_state(state);
  EXPECT_TRUE(text.ends_with("\n"));
  EXPECT_NE(text.find("haul-part/1"), std::string::npos);
  auto parsed = parse_resume_state(text);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(*parsed, state);
}

TEST(ResumeState, RoundTripsAnUnknownSizeAndNoRanges) {
  ResumeState state;
  state.validator.last_modified = "x";
  auto parsed = parse_resume_state(serialize_resume_state(state));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_FALSE(parsed->validator.size.has_value());
  EXPECT_TRUE(parsed->done.empty());
  EXPECT_EQ(*parsed, state);
}

TEST(ResumeState, RoundTripsTheLargestSize) {
  ResumeState state;
  state.validator.size = std::numeric_limits<std::uint64_t>::max();
  state.done.add({0, std::numeric_limits<std::uint64_t>::max()});
  auto parsed = parse_resume_state(serialize_resume_state(state));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(*parsed, state);
}

TEST(ResumeState, ParseMergesOverlappingRanges) {
  auto parsed = parse_resume_state(
      R"({"format":"haul-part/1","etag":"","last_modified":"","size":100,"done":[[50,60],[0,10],[10,20],[55,70]]})");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed->done.ranges(), (std::vector<ByteRange>{{0, 20}, {50, 70}}));
}

void expect_data_loss(std::string_view text) {
  auto parsed = parse_resume_state(text);
  ASSERT_FALSE(parsed.has_value()) << text;
  EXPECT_EQ(parsed.error().code, ErrorCode::kDataLoss) << text;
  EXPECT_NE(parsed.error().message.find("resume state"), std::string::npos)
      << parsed.error().message;
}

TEST(ResumeState, ParseRejectsGarbage) {
  for (const char* bad :
       {"", "garbage", "{", "[]", "null", "42", "\"haul-part/1\"", "{\"format\":\"haul-part/1\""}) {
    expect_data_loss(bad);
  }
}

TEST(ResumeState, ParseRejectsOtherFormats) {
  expect_data_loss(
      R"({"format":"haul-part/2","etag":"","last_modified":"","size":null,"done":[]})");
  expect_data_loss(R"({"etag":"","last_modified":"","size":null,"done":[]})");
  expect_data_loss(R"({"format":"","etag":"","last_modified":"","size":null,"done":[]})");
}

TEST(ResumeState, ParseRejectsAFormatThatIsNotAString) {
  expect_data_loss(R"({"format":1,"etag":"","last_modified":"","size":null,"done":[]})");
  expect_data_loss(R"({"format":null})");
  expect_data_loss(R"({"format":["haul-part/1"]})");
}

TEST(ResumeState, ParseRejectsMissingOrMistypedFields) {
  expect_data_loss(R"({"format":"haul-part/1"})");
  expect_data_loss(R"({"format":"haul-part/1","last_modified":"","size":null,"done":[]})");
  expect_data_loss(R"({"format":"haul-part/1","etag":"","size":null,"done":[]})");
  expect_data_loss(R"({"format":"haul-part/1","etag":"","last_modified":"","done":[]})");
  expect_data_loss(R"({"format":"haul-part/1","etag":"","last_modified":"","size":null})");
  expect_data_loss(R"({"format":"haul-part/1","etag":5,"last_modified":"","size":null,"done":[]})");
  expect_data_loss(
      R"({"format":"haul-part/1","etag":"","last_modified":"","size":"big","done":[]})");
  expect_data_loss(
      R"({"format":"haul-part/1","etag":"","last_modified":"","size":null,"done":[[1]]})");
  expect_data_loss(
      R"({"format":"haul-part/1","etag":"","last_modified":"","size":null,"done":[["0","1"]]})");
  expect_data_loss(
      R"({"format":"haul-part/1","etag":"","last_modified":"","size":null,"done":"0-10"})");
  expect_data_loss(
      R"({"format":"haul-part/1","etag":"","last_modified":"","size":null,"done":[5]})");
}

TEST(ResumeState, ParseRejectsNegativeAndFractionalNumbers) {
  // [0, -1) with an unknown size would claim the whole file is on disk.
  expect_data_loss(
      R"({"format":"haul-part/1","etag":"","last_modified":"","size":null,"done":[[0,-1]]})");
  expect_data_loss(R"({"format":"haul-part/1","etag":"","last_modified":"","size":-1,"done":[]})");
  expect_data_loss(R"({"format":"haul-part/1","etag":"","last_modified":"","size":1.5,"done":[]})");
  expect_data_loss(
      R"({"format":"haul-part/1","etag":"","last_modified":"","size":100,"done":[[0.5,10.9]]})");
}

TEST(ResumeState, ParseRejectsRangesOutsideTheFile) {
  expect_data_loss(
      R"({"format":"haul-part/1","etag":"","last_modified":"","size":100,"done":[[0,101]]})");
  expect_data_loss(
      R"({"format":"haul-part/1","etag":"","last_modified":"","size":100,"done":[[0,10],[90,200]]})");
  expect_data_loss(
      R"({"format":"haul-part/1","etag":"","last_modified":"","size":100,"done":[[20,10]]})");
  // A range ending exactly at the size is fine.
  EXPECT_TRUE(
      parse_resume_state(
          R"({"format":"haul-part/1","etag":"","last_modified":"","size":100,"done":[[90,100]]})")
          .has_value());
}

}  // namespace
}  // namespace haul::transfer
