#include "cards/front_matter.hpp"

#include <gtest/gtest.h>

namespace haul::cards {
namespace {

FrontMatter must_split(std::string_view text) {
  auto result = split_front_matter(text);
  EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().message);
  return result ? *result : FrontMatter{};
}

TEST(FrontMatter, AbsentWhenTheFirstLineIsNotAFence) {
  const std::string_view text = "# Title\n---\nname: x\n---\n";
  FrontMatter front = must_split(text);
  EXPECT_FALSE(front.present);
  EXPECT_TRUE(front.values.empty());
  EXPECT_EQ(front.body, text);
}

TEST(FrontMatter, ReadsKeyValueLinesAndReturnsTheBodyAfterTheFence) {
  FrontMatter front = must_split("---\nname: Wan 2.1 FusionX\ntype: loras\n---\n# Download\n");
  EXPECT_TRUE(front.present);
  EXPECT_EQ(front.values.size(), 2u);
  EXPECT_EQ(front.values.at("name"), "Wan 2.1 FusionX");
  EXPECT_EQ(front.values.at("type"), "loras");
  EXPECT_EQ(front.body, "# Download\n");
}

TEST(FrontMatter, UnquotesValuesAndDropsPlainComments) {
  FrontMatter front = must_split(
      "---\n"
      "a: \"Motion: sharper \\\"faces\\\"\"\n"
      "b: 'it''s'\n"
      "c: Wan Video 14B   # a comment\n"
      "d: https://example.com/#anchor\n"
      "e: \"# not a comment\"  # but this is\n"
      "---\n");
  EXPECT_EQ(front.values.at("a"), "Motion: sharper \"faces\"");
  EXPECT_EQ(front.values.at("b"), "it's");
  EXPECT_EQ(front.values.at("c"), "Wan Video 14B");
  EXPECT_EQ(front.values.at("d"), "https://example.com/#anchor")
      << "'#' inside a word is not a comment";
  EXPECT_EQ(front.values.at("e"), "# not a comment");
}

TEST(FrontMatter, JoinsListsAndBlockScalars) {
  FrontMatter front = must_split(
      "---\n"
      "tags:\n"
      "  - wan\n"
      "  - \"video\"\n"
      "notes: |\n"
      "  line one\n"
      "  line two\n"
      "summary: >\n"
      "  folded\n"
      "  text\n"
      "title: plain value\n"
      "  spilling over\n"
      "---\n");
  EXPECT_EQ(front.values.at("tags"), "wan\nvideo");
  EXPECT_EQ(front.values.at("notes"), "line one\nline two");
  EXPECT_EQ(front.values.at("summary"), "folded text");
  EXPECT_EQ(front.values.at("title"), "plain value spilling over");
}

TEST(FrontMatter, SkipsCommentsBlankLinesAndHandlesCrLfAndBom) {
  FrontMatter front = must_split("\xEF\xBB\xBF---\r\n# comment\r\n\r\nname: x\r\n...\r\nbody\r\n");
  EXPECT_TRUE(front.present);
  EXPECT_EQ(front.values.size(), 1u);
  EXPECT_EQ(front.values.at("name"), "x");
  EXPECT_EQ(front.body, "body\r\n");
}

TEST(FrontMatter, GetIgnoresCaseAndReturnsEmptyForMissingKeys) {
  FrontMatter front = must_split("---\nName: X\n---\n");
  EXPECT_EQ(front.get("name"), "X");
  EXPECT_EQ(front.get("description"), "");
  EXPECT_EQ(front.values.count("Name"), 1u) << "keys are kept as written";
}

TEST(FrontMatter, EmptyBlockIsPresentButHasNoKeys) {
  FrontMatter front = must_split("---\n---\n# T\n");
  EXPECT_TRUE(front.present);
  EXPECT_TRUE(front.values.empty());
  EXPECT_EQ(front.body, "# T\n");
}

TEST(FrontMatter, RejectsAnUnclosedBlock) {
  auto result = split_front_matter("---\nname: x\n# Download\n");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(result.error().message.find("never closed"), std::string::npos)
      << result.error().message;
}

TEST(FrontMatter, RejectsLinesThatAreNotKeyValue) {
  auto result = split_front_matter("---\nname: x\nthis is prose\n---\n");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().message, "front matter line 3 is not 'key: value': 'this is prose'");
  EXPECT_FALSE(split_front_matter("---\nhttps://example.com\n---\n").has_value())
      << "':' must be followed by a space or the end of the line";
}

TEST(FrontMatter, RejectsDuplicateKeys) {
  auto result = split_front_matter("---\nname: a\nname: b\n---\n");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().message, "front matter key 'name' appears twice (line 3)");
}

}  // namespace
}  // namespace haul::cards
