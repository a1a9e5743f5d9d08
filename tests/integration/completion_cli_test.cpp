// `haul completion bash|zsh` on the real command line: the scripts the
// binary prints complete its own commands, options and option values when
// loaded into bash and zsh.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness.hpp"
#include "support/shell_completion.hpp"

namespace haul::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsSupersetOf;
using ::testing::UnorderedElementsAre;

class CompletionCliTest : public ::testing::Test {
 protected:
  // The script `haul completion SHELL` prints, saved as `name`.
  std::filesystem::path script(const std::string& shell, const std::string& name) {
    const auto outcome = run_haul({"completion", shell});
    EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
    write_file(dir / name, outcome.out);
    return dir / name;
  }
  TempDir dir;
};

TEST_F(CompletionCliTest, BashCompletesHaulsCommands) {
  const auto file = script("bash", "haul.bash");
  auto complete = [&](std::vector<std::string> words) {
    std::string error;
    auto replies = bash_complete(file, words, &error);
    EXPECT_TRUE(replies) << error;
    return replies.value_or(std::vector<std::string>{"<bash failed>"});
  };
  EXPECT_THAT(complete({"haul", "ser"}), ElementsAre("serve"));
  EXPECT_THAT(complete({"haul", ""}), IsSupersetOf({"get", "serve", "add", "jobs", "instances",
                                                    "install", "worker", "completion"}));
  EXPECT_THAT(complete({"haul", "jobs", "--for"}), ElementsAre("--format"));
  EXPECT_THAT(complete({"haul", "jobs", "--format", ""}),
              UnorderedElementsAre("table", "json", "simple"));
  EXPECT_THAT(complete({"haul", "instances", ""}), IsSupersetOf({"add", "rm"}));
  EXPECT_THAT(complete({"haul", "instances", "add", "--ui"}), ElementsAre("--ui-home"));
  EXPECT_THAT(complete({"haul", "worker", ""}), UnorderedElementsAre("start", "stop"));
  EXPECT_THAT(complete({"haul", "worker", "stop", "--f"}), ElementsAre("--force"));
  EXPECT_THAT(complete({"haul", "serve", "--models"}), ElementsAre("--models-root"));
  EXPECT_THAT(complete({"haul", "get", "--"}), Contains("--sha256"));
  EXPECT_THAT(complete({"haul", "completion", ""}), UnorderedElementsAre("bash", "zsh"));
}

TEST_F(CompletionCliTest, ZshCompletesHaulsCommands) {
  if (!have_program("zsh")) GTEST_SKIP() << "zsh is not installed (./dev deps adds it)";
  const auto file = script("zsh", "_haul");
  auto complete = [&](const std::string& line) {
    std::string error;
    auto matches = zsh_complete(file, line, &error);
    EXPECT_TRUE(matches) << error;
    return matches.value_or(std::vector<std::string>{"<zsh failed>"});
  };
  EXPECT_THAT(complete("haul ser"), ElementsAre("serve"));
  EXPECT_THAT(complete("haul jobs --for"), ElementsAre("--format"));
  EXPECT_THAT(complete("haul jobs --format "), UnorderedElementsAre("table", "json", "simple"));
  EXPECT_THAT(complete("haul instances "), IsSupersetOf({"add", "rm"}));
  EXPECT_THAT(complete("haul worker stop --f"), ElementsAre("--force"));
  EXPECT_THAT(complete("haul completion "), UnorderedElementsAre("bash", "zsh"));
}

TEST_F(CompletionCliTest, UnknownShellIsBadUsage) {
  const auto outcome = run_haul({"completion", "fish"});
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_THAT(outcome.err, ::testing::HasSubstr("fish"));
}

}  // namespace
}  // namespace haul::testing
