#include "cli/command_hint.hpp"

#include <gtest/gtest.h>

namespace haul::cli {
namespace {

const std::vector<std::string> kCommands = {"get",    "serve",     "add",     "jobs",
                                            "pause",  "resume",    "retry",   "cancel",
                                            "status", "instances", "install", "worker"};

// Issue 10 item 15: a mistyped command is named, with the likely command.
TEST(CommandHint, SuggestsTheCommandATypoOrAnOptionMeant) {
  EXPECT_EQ(closest_command("--status", kCommands), "status");
  EXPECT_EQ(closest_command("stauts", kCommands), "status");
  EXPECT_EQ(closest_command("Serve", kCommands), "serve");
  EXPECT_EQ(closest_command("instnaces", kCommands), "instances");
  EXPECT_EQ(closest_command("download", kCommands), "");
  EXPECT_EQ(closest_command("--", kCommands), "");
}

TEST(CommandHint, OneLineNamingTheWordAndPointingToHelp) {
  EXPECT_EQ(unknown_command_message("--status", kCommands),
            "haul: '--status' is not an option here (haul's first word is a command); did you "
            "mean 'haul status'? Run 'haul --help' for the commands.");
  EXPECT_EQ(unknown_command_message("fetch", kCommands),
            "haul: 'fetch' is not a haul command. Run 'haul --help' for the commands.");
}

}  // namespace
}  // namespace haul::cli
