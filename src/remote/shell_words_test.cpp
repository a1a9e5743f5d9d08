// The shell word reader: quoting, expansion of known variables only,
// operators and redirections.
#include "remote/shell_words.hpp"

#include <gtest/gtest.h>

namespace haul::remote::shell {
namespace {

// Each command's words, expanded ("?" for an unknown word).
std::vector<std::vector<std::string>> words_of(std::string_view line, const Vars& vars = {}) {
  std::vector<std::vector<std::string>> out;
  for (const Command& command : split_commands(line)) {
    std::vector<std::string> words;
    for (const Word& word : command.words) words.push_back(expand(word, vars).value_or("?"));
    out.push_back(words);
  }
  return out;
}

using Lines = std::vector<std::vector<std::string>>;

TEST(ShellWords, RemovesQuotesAndEscapesAsShDoes) {
  EXPECT_EQ(words_of(R"(wget -P 'a b' "c d" e\ f "g\"h" 'i\j')"),
            (Lines{{"wget", "-P", "a b", "c d", "e f", "g\"h", "i\\j"}}));
  EXPECT_EQ(words_of("wget \\\n  -q x"), (Lines{{"wget", "-q", "x"}}));
  EXPECT_EQ(words_of("a '' \"\""), (Lines{{"a", "", ""}}));
}

TEST(ShellWords, ExpandsOnlyKnownVariablesAndOnlyOutsideSingleQuotes) {
  const Vars vars{{"UI_HOME", "/w/Comfy UI"}, {"D", "/d"}, {"GONE", std::nullopt}};
  EXPECT_EQ(words_of(R"(x "$UI_HOME/m" "${UI_HOME}"/m '$UI_HOME' $D/m ${D}x)", vars),
            (Lines{{"x", "/w/Comfy UI/m", "/w/Comfy UI/m", "$UI_HOME", "/d/m", "/dx"}}));
  // Unquoted, a value with a blank would be split by the shell.
  EXPECT_EQ(words_of("x $UI_HOME/m", vars), (Lines{{"x", "?"}}));
  EXPECT_EQ(words_of("x $OTHER $GONE ${D:-y} $(pwd) `pwd` $1 $'a'", vars),
            (Lines{{"x", "?", "?", "?", "?", "?", "?", "?"}}));
  EXPECT_EQ(words_of("x $ a$", vars), (Lines{{"x", "$", "a$"}}));
}

TEST(ShellWords, TildeAndHomeAreTheLoginDirectoryOnlyAtTheStart) {
  const std::string login(1, kLoginDir);
  EXPECT_EQ(words_of("x ~ ~/a \"$HOME\"/b $HOME '~/c' a~ ~user"),
            (Lines{{"x", login, login + "/a", login + "/b", login, "~/c", "a~", "~user"}}));
  EXPECT_EQ(words_of("x a$HOME"), (Lines{{"x", "?"}}));
}

TEST(ShellWords, SplitsCommandsAtOperatorsAndDropsRedirections) {
  const auto commands = split_commands("cd d && wget u >log 2>&1; curl -o f u | tee x & (a) || b");
  ASSERT_EQ(commands.size(), 8u);
  EXPECT_EQ(words_of("cd d && wget u >log 2>&1; curl -o f u 2> err | tee x &>all"),
            (Lines{{"cd", "d"}, {"wget", "u"}, {"curl", "-o", "f", "u"}, {"tee", "x"}}));
  EXPECT_EQ(commands[0].before, "");
  EXPECT_EQ(commands[0].after, "&&");
  EXPECT_EQ(commands[2].after, "|");
  EXPECT_EQ(commands[3].before, "|");
  EXPECT_EQ(commands[3].after, "&");
  EXPECT_TRUE(commands[4].words.empty());
  EXPECT_EQ(commands[4].after, "(");
  EXPECT_EQ(commands[6].after, ")");
  EXPECT_EQ(words_of("a # comment 'x\nb"), (Lines{{"a"}, {"b"}}));
}

TEST(ShellWords, MarksGlobsAndReadsAssignments) {
  const auto commands = split_commands("X=~/m Y=\"$D\"/a wget *.bin 'q*'");
  ASSERT_EQ(commands.size(), 1u);
  const auto& words = commands[0].words;
  ASSERT_EQ(words.size(), 5u);
  const auto x = as_assignment(words[0]);
  ASSERT_TRUE(x);
  EXPECT_EQ(x->first, "X");
  EXPECT_EQ(expand(x->second, {}), std::string(1, kLoginDir) + "/m");
  const auto y = as_assignment(words[1]);
  ASSERT_TRUE(y);
  EXPECT_EQ(expand(y->second, {{"D", "/a b"}}), "/a b/a");  // not split: an assignment
  EXPECT_FALSE(as_assignment(words[2]));
  EXPECT_TRUE(words[3].glob);
  EXPECT_FALSE(words[4].glob);
  EXPECT_FALSE(as_assignment(split_commands("'X=1'")[0].words[0]));
  EXPECT_FALSE(as_assignment(split_commands("1X=1")[0].words[0]));
}

TEST(ShellWords, SurvivesUnterminatedQuotesAndSubstitutions) {
  for (const char* line : {"a 'b", "a \"b", "a $(b", "a `b", "a ${b", "a \\", "a $"}) {
    const auto commands = split_commands(line);
    ASSERT_FALSE(commands.empty()) << line;
    EXPECT_EQ(expand(commands[0].words[0], {}), "a") << line;
  }
}

TEST(ShellWords, SpellsWordsWithExpansionsAsWritten) {
  const auto commands =
      split_commands(R"(x "$KEY" ${D}/m ~/a $(pwd)/y `id -u` ${D:-y} $1 $'a' 'q r')");
  ASSERT_EQ(commands.size(), 1u);
  std::vector<std::string> spellings;
  for (const Word& word : commands[0].words) spellings.push_back(spelled(word));
  EXPECT_EQ(spellings, (std::vector<std::string>{"x", "$KEY", "$D/m", "~/a", "$(pwd)/y", "`id -u`",
                                                 "${D:-y}", "$1", "$'a'", "q r"}));
}

}  // namespace
}  // namespace haul::remote::shell
