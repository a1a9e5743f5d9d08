#include "cli/argv_passwords.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace haul::cli {
namespace {

std::string hidden(std::string arg) {
  std::vector<char*> argv = {const_cast<char*>("haul"), arg.data()};
  hide_argv_passwords(static_cast<int>(argv.size()), argv.data());
  return arg;
}

TEST(ArgvPasswords, APostgresUrlPasswordIsOverwritten) {
  EXPECT_EQ(hidden("postgres://haul:s3cret@db.lan:5432/queue"),
            "postgres://haul:******@db.lan:5432/queue");
  EXPECT_EQ(hidden("--store=postgresql://haul:pw@127.0.0.1/q"),
            "--store=postgresql://haul:**@127.0.0.1/q");
}

TEST(ArgvPasswords, APasswordHoldingAtSignsIsHiddenWhole) {
  EXPECT_EQ(hidden("https://u:p@ss@host/file?x=1"), "https://u:****@host/file?x=1");
}

TEST(ArgvPasswords, ArgumentsWithoutAPasswordStayAsTheyAre) {
  for (const std::string arg : {"postgres://haul@db/queue", "https://host/path@v2/file",
                                "https://host:8080/f", "sqlite:/data/haul.db", "--max-active",
                                "user:pw@host", "https://u:@host/", "postgres://"}) {
    EXPECT_EQ(hidden(arg), arg) << arg;
  }
}

TEST(ArgvPasswords, TheSpanNamesThePassword) {
  const PasswordSpan span = find_url_password("postgres://a:bc@h/d");
  EXPECT_EQ(span.first, 13u);
  EXPECT_EQ(span.size, 2u);
  EXPECT_EQ(find_url_password("no url").size, 0u);
}

}  // namespace
}  // namespace haul::cli
