#include "base/text.hpp"

#include <gtest/gtest.h>

namespace haul {
namespace {

TEST(Text, TrimRemovesSurroundingWhitespaceOnly) {
  EXPECT_EQ(trim("  a b\t\r\n"), "a b");
  EXPECT_EQ(trim("\r\n"), "");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim("x"), "x");
}

TEST(Text, IequalsIgnoresAsciiCaseOnly) {
  EXPECT_TRUE(iequals("Content-Range", "content-range"));
  EXPECT_FALSE(iequals("abc", "abd"));
  EXPECT_FALSE(iequals("abc", "ab"));
  EXPECT_FALSE(iequals("\xC3\x84", "\xC3\xA4"));  // Ä vs ä: not ASCII
}

TEST(Text, ToLowerLowersAscii) { EXPECT_EQ(to_lower("ETag: W/\"X\""), "etag: w/\"x\""); }

}  // namespace
}  // namespace haul
