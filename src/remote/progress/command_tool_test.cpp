#include "remote/progress/command_tool.hpp"

#include <gtest/gtest.h>

#include "remote/progress/progress_parser.hpp"

namespace haul::remote::progress {
namespace {

using Words = std::vector<std::string>;

TEST(SplitSimpleCommands, SeparatesCommandsAndDropsRedirections) {
  const auto commands = split_simple_commands(
      "cd /w && PYTHONUNBUFFERED=1 civitdl 123 \"/w/models/my loras\" -k \"$KEY\" 2>&1 | tee "
      "log.txt");
  ASSERT_EQ(commands.size(), 3u);
  EXPECT_EQ(commands[0], (Words{"cd", "/w"}));
  EXPECT_EQ(commands[1],
            (Words{"PYTHONUNBUFFERED=1", "civitdl", "123", "/w/models/my loras", "-k", "$KEY"}));
  EXPECT_EQ(commands[2], (Words{"tee", "log.txt"}));
}

TEST(SplitSimpleCommands, HandlesQuotesEscapesCommentsAndSubshells) {
  const auto commands = split_simple_commands(
      "echo 'a; b' \"c \\\"d\\\"\" e\\ f > /dev/null; (cd x) # wget here\nls $(pwd)/y");
  ASSERT_EQ(commands.size(), 3u);
  EXPECT_EQ(commands[0], (Words{"echo", "a; b", "c \"d\"", "e f"}));
  EXPECT_EQ(commands[1], (Words{"cd", "x"}));
  EXPECT_EQ(commands[2], (Words{"ls", "$(pwd)/y"}));
}

struct Case {
  const char* command;
  Tool tool;
  const char* name;
};

class DetectTool : public ::testing::TestWithParam<Case> {};

TEST_P(DetectTool, ChoosesTheToolFromTheCommand) {
  const Case& c = GetParam();
  const CommandTool found = detect_tool(c.command);
  EXPECT_EQ(found.tool, c.tool) << c.command;
  EXPECT_EQ(found.output_name, c.name) << c.command;
}

INSTANTIATE_TEST_SUITE_P(
    Commands, DetectTool,
    ::testing::Values(
        Case{"wget -q --show-progress https://h/y.bin", Tool::kWget, ""},
        Case{"cd /workspace && wget --progress=dot:giga -O models/a.safetensors "
             "'https://h/f?token=1'",
             Tool::kWget, "a.safetensors"},
        Case{"/usr/bin/wget -qO- https://h/install.sh | bash", Tool::kWget, ""},
        Case{"curl -fL -o /w/m.gguf https://h/x", Tool::kCurl, "m.gguf"},
        Case{"curl --output=/w/n.gguf https://h/x", Tool::kCurl, "n.gguf"},
        Case{"curl -fsSLO 'https://h/dir/model.bin?x=1'", Tool::kCurl, "model.bin"},
        Case{"env -u FOO BAR=1 stdbuf -oL curl -sSo out.bin http://h/y", Tool::kCurl, "out.bin"},
        Case{"sudo -u comfy aria2c -x 16 -o out.bin 'https://h/a'", Tool::kAria2c, "out.bin"},
        Case{"aria2c --out=z.bin https://h/a", Tool::kAria2c, "z.bin"},
        Case{"aria2c -d /w https://h/dir/f.safetensors", Tool::kAria2c, "f.safetensors"},
        Case{"HF_HUB_ENABLE_HF_TRANSFER=1 hf download org/repo f.safetensors --local-dir /w",
             Tool::kTqdm, ""},
        Case{"huggingface-cli download org/repo", Tool::kTqdm, ""},
        Case{"python3 -m huggingface_hub.commands.huggingface_cli download org/repo", Tool::kTqdm,
             ""},
        Case{"python3 download.py --all", Tool::kTqdm, ""},
        Case{"python3 -m civitdl 1 /x", Tool::kCivitdl, ""},
        Case{"timeout 3600 nohup civitdl 1678575 /w/loras", Tool::kCivitdl, ""},
        Case{"bash -lc 'cd /w && PYTHONUNBUFFERED=1 civitdl 1 /w/l -k \"$K\"'", Tool::kCivitdl, ""},
        Case{"sh -c \"sh -c 'wget https://h/a'\"", Tool::kWget, ""},
        Case{"wget https://h/a && curl -o b http://h/b", Tool::kCurl, "b"},
        Case{"hf auth login", Tool::kGeneric, ""},
        Case{"mkdir -p /w && echo done", Tool::kGeneric, ""},
        Case{"echo 'wget is not run here'", Tool::kGeneric, ""},
        Case{"ls # wget https://h/a", Tool::kGeneric, ""}, Case{"python3", Tool::kGeneric, ""},
        Case{"", Tool::kGeneric, ""}));

TEST(ParserForCommand, ReturnsAParserForEveryCommand) {
  EXPECT_EQ(parser_for_command("wget https://h/a")->tool(), "wget");
  EXPECT_EQ(parser_for_command("curl -O https://h/a")->tool(), "curl");
  EXPECT_EQ(parser_for_command("aria2c https://h/a")->tool(), "aria2c");
  EXPECT_EQ(parser_for_command("hf download org/repo")->tool(), "tqdm");
  EXPECT_EQ(parser_for_command("civitdl 1 /x")->tool(), "civitdl");
  EXPECT_EQ(parser_for_command("git clone https://h/r")->tool(), "generic");
  EXPECT_EQ(parser_for_command("'unterminated")->tool(), "generic");
}

}  // namespace
}  // namespace haul::remote::progress
