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

TEST(Text, SafeRelativePathsStayBelowTheirDirectory) {
  EXPECT_TRUE(is_safe_relative_path("model.safetensors"));
  EXPECT_TRUE(is_safe_relative_path("vae/diffusion_pytorch_model.safetensors"));
  EXPECT_TRUE(is_safe_relative_path("a..b/..c"));  // dots inside a name are fine
  for (const char* bad :
       {"", "/etc/passwd", "../x", "a/../b", "a//b", "./a", "a/.", "a/", "a\\b", "..", "."})
    EXPECT_FALSE(is_safe_relative_path(bad)) << bad;
  EXPECT_FALSE(is_safe_relative_path(std::string_view("a\0b", 3)));
}

TEST(Text, ControlCharactersAreFound) {
  EXPECT_FALSE(has_control_char("model v2 (fp16).safetensors"));
  EXPECT_FALSE(has_control_char("caf\xC3\xA9"));  // UTF-8 is not control
  EXPECT_TRUE(has_control_char("a\nb"));
  EXPECT_TRUE(has_control_char("a\rb"));
  EXPECT_TRUE(has_control_char("\x7f"));
  EXPECT_TRUE(has_control_char(std::string_view("a\0b", 3)));
}

TEST(Text, ExpandUserReplacesALeadingTildeOnly) {
  const std::optional<std::string> home = "/home/u/";
  EXPECT_EQ(expand_user("~", home), "/home/u");
  EXPECT_EQ(expand_user("~/models", home), "/home/u/models");
  EXPECT_EQ(expand_user("~other/models", home), "~other/models");
  EXPECT_EQ(expand_user("a/~/b", home), "a/~/b");
  EXPECT_EQ(expand_user("~/x", std::nullopt), "~/x");
  EXPECT_EQ(expand_user("~/x", std::string("/")), "/x");
}

TEST(Text, ExpandVarsReplacesSetVariablesOnly) {
  const EnvLookup getenv = [](std::string_view name) -> std::optional<std::string> {
    if (name == "A") return "/a";
    if (name == "B_2") return "b";
    return std::nullopt;
  };
  EXPECT_EQ(expand_vars("$A/x/${B_2}y", getenv), "/a/x/by");
  EXPECT_EQ(expand_vars("$UNSET/${UNSET}/$/${A", getenv), "$UNSET/${UNSET}/$/${A");
  EXPECT_EQ(expand_vars("${}$", getenv), "${}$");
  EXPECT_EQ(expand_vars("$A$A", getenv), "/a/a");
}

}  // namespace
}  // namespace haul
