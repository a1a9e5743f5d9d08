#include "cards/script_commands.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace haul::cards {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> must_split(std::string_view script) {
  auto result = split_script_commands(script);
  EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().message);
  return result ? *result : std::vector<std::string>{};
}

// The two examples of the seed's "Example Resource Card Bash Block".
TEST(SplitScriptCommands, JoinsBackslashContinuationsWithOneSpace) {
  EXPECT_THAT(
      must_split("civitdl \"https://civitai.com/models/1678575?modelVersionId=1900322\" \\\n"
                 "  \"$UI_HOME/models/loras\"\n"),
      ElementsAre("civitdl \"https://civitai.com/models/1678575?modelVersionId=1900322\" "
                  "\"$UI_HOME/models/loras\""));
  EXPECT_THAT(
      must_split(
          "wget -P \"$UI_HOME\"/models/diffusion_models/Wan-2.2_ComfyUI_repackaged \\\n"
          "  https://huggingface.co/Comfy-Org/Wan_2.2_ComfyUI_Repackaged/resolve/main/split_files/"
          "diffusion_models/wan2.2_t2v_high_noise_14B_fp16.safetensors\n"
          "wget -P \"$UI_HOME\"/models/diffusion_models/Wan-2.2_ComfyUI_repackaged \\\n"
          "  https://huggingface.co/Comfy-Org/Wan_2.2_ComfyUI_Repackaged/resolve/main/split_files/"
          "diffusion_models/wan2.2_t2v_low_noise_14B_fp16.safetensors\n"),
      ElementsAre(
          "wget -P \"$UI_HOME\"/models/diffusion_models/Wan-2.2_ComfyUI_repackaged "
          "https://huggingface.co/Comfy-Org/Wan_2.2_ComfyUI_Repackaged/resolve/main/split_files/"
          "diffusion_models/wan2.2_t2v_high_noise_14B_fp16.safetensors",
          "wget -P \"$UI_HOME\"/models/diffusion_models/Wan-2.2_ComfyUI_repackaged "
          "https://huggingface.co/Comfy-Org/Wan_2.2_ComfyUI_Repackaged/resolve/main/split_files/"
          "diffusion_models/wan2.2_t2v_low_noise_14B_fp16.safetensors"));
}

TEST(SplitScriptCommands, ContinuationWithoutWhitespaceGluesTheWord) {
  EXPECT_THAT(must_split("echo abc\\\ndef\n"), ElementsAre("echo abcdef"));
  EXPECT_THAT(must_split("echo abc\\\n   def\n"), ElementsAre("echo abc def"));
  EXPECT_THAT(must_split("a \\\n  b \\\n  c\n"), ElementsAre("a b c"));
}

TEST(SplitScriptCommands, DropsCommentsAndBlankLines) {
  EXPECT_THAT(must_split("# fetch the model\n\n   \n  mkdir -p \"$UI_HOME/models\"  # make room\n"
                         "\t# indented comment\nls\n"),
              ElementsAre("mkdir -p \"$UI_HOME/models\"", "ls"));
}

TEST(SplitScriptCommands, HashInsideAWordOrQuotesIsNotAComment) {
  EXPECT_THAT(must_split("wget \"https://e.com/a#b\" https://e.com/c#d '# x'\n"),
              ElementsAre("wget \"https://e.com/a#b\" https://e.com/c#d '# x'"));
}

TEST(SplitScriptCommands, AnApostropheInACommentDoesNotOpenAQuote) {
  EXPECT_THAT(must_split("wget https://e.com/a  # don't retry\nls\n"),
              ElementsAre("wget https://e.com/a", "ls"));
}

TEST(SplitScriptCommands, EscapedBackslashAtTheEndIsNotAContinuation) {
  EXPECT_THAT(must_split("echo a\\\\\necho b\n"), ElementsAre("echo a\\\\", "echo b"));
}

TEST(SplitScriptCommands, BackslashInSingleQuotesIsLiteral) {
  // 'a\' ends the quote: the next line is a new command.
  EXPECT_THAT(must_split("echo 'a\\'\necho b\n"), ElementsAre("echo 'a\\'", "echo b"));
}

TEST(SplitScriptCommands, BackslashNewlineInsideDoubleQuotesIsRemovedLikeSh) {
  EXPECT_THAT(must_split("echo \"abc\\\n  def\"\n"), ElementsAre("echo \"abc  def\""));
}

TEST(SplitScriptCommands, KeepsMultiLineQuotedStrings) {
  EXPECT_THAT(must_split("python -c 'import sys\nprint(sys.argv)'\nls\n"),
              ElementsAre("python -c 'import sys\nprint(sys.argv)'", "ls"));
}

TEST(SplitScriptCommands, AnsiCQuotesAllowEscapedQuotes) {
  EXPECT_THAT(must_split("echo $'it\\'s'\nls\n"), ElementsAre("echo $'it\\'s'", "ls"));
}

TEST(SplitScriptCommands, TrailingOperatorsContinueTheCommand) {
  EXPECT_THAT(
      must_split("mkdir -p d &&\n  # comment between\n\n  cd d ||\n  exit 1\nls |\n  wc -l\n"),
      ElementsAre("mkdir -p d && cd d || exit 1", "ls | wc -l"));
}

TEST(SplitScriptCommands, KeepsHereDocumentBodies) {
  EXPECT_THAT(
      must_split("cat > \"$UI_HOME/extra_model_paths.yaml\" <<'EOF'\n"
                 "comfyui:\n"
                 "  loras: models/loras\n"
                 "EOF\n"
                 "ls\n"),
      ElementsAre(
          "cat > \"$UI_HOME/extra_model_paths.yaml\" <<'EOF'\ncomfyui:\n  loras: models/loras\nEOF",
          "ls"));
  EXPECT_THAT(must_split("cat <<-END\n\tx\n\tEND\nls\n"),
              ElementsAre("cat <<-END\n\tx\n\tEND", "ls"));
  EXPECT_THAT(must_split("grep x <<< \"$v\"\nls\n"), ElementsAre("grep x <<< \"$v\"", "ls"))
      << "a here-string has no body";
}

TEST(SplitScriptCommands, HandlesCrLfAndAMissingFinalNewline) {
  EXPECT_THAT(must_split("a \\\r\n  b\r\nc"), ElementsAre("a b", "c"));
}

TEST(SplitScriptCommands, EmptyAndCommentOnlyScriptsGiveNoCommands) {
  EXPECT_TRUE(must_split("").empty());
  EXPECT_TRUE(must_split("# nothing yet\n\n").empty());
}

TEST(SplitScriptCommands, BackslashOnTheLastLineKeepsTheCommand) {
  EXPECT_THAT(must_split("wget x \\\n"), ElementsAre("wget x"));
  EXPECT_THAT(must_split("wget x \\\n\nls\n"), ElementsAre("wget x", "ls"));
}

TEST(SplitScriptCommands, RejectsAnUnclosedQuote) {
  auto result = split_script_commands("wget \"https://e.com/a\nls\n");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(result.error().message,
            "command 'wget \"https://e.com/a ls' has a quote that is never closed");
}

TEST(SplitScriptCommands, RejectsAnUnendedHereDocument) {
  auto result = split_script_commands("cat <<EOF\nabc\n");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().message,
            "the here-document 'EOF' of command 'cat <<EOF abc' is never ended");
}

// Regression (deep fuzzing): `<\` + a line starting with '<' is `<<` to the
// shell, a here-document this splitter did not see; its command then failed
// to split again. A '<' or '<<' (or its word) broken by a continuation is
// refused with a clear error.
TEST(SplitScriptCommands, RejectsARedirectionBrokenAcrossLines) {
  for (const char* script : {"cat <\\\n<EOF\nhi\nEOF\n", "cat <<\\\nEOF\nhi\nEOF\n",
                             "cat << \\\nEOF\nhi\nEOF\n", "cat <<EO\\\nF\nhi\nEOF\n"}) {
    auto commands = split_script_commands(script);
    ASSERT_FALSE(commands) << script;
    EXPECT_NE(commands.error().message.find("broken across lines"), std::string::npos)
        << commands.error().message;
  }
  // A continuation after a whole operator and word stays fine.
  auto fine = split_script_commands("cat < \\\nfile.txt\ncat <<EOF \\\n| wc -l\nx\nEOF\n");
  ASSERT_TRUE(fine) << fine.error().message;
  EXPECT_EQ(fine->size(), 2u);
}

// Regression (deep fuzzing): a continuation joining an empty line ended the
// command while its here-document was still to come, so the body was read
// as commands (and the command did not split into itself again).
TEST(SplitScriptCommands, AContinuationIntoABlankLineStillReadsTheHereDocument) {
  auto commands = split_script_commands("cat <<EOF \\\n\nbody line\nEOF\necho next\n");
  ASSERT_TRUE(commands) << commands.error().message;
  ASSERT_EQ(commands->size(), 2u);
  EXPECT_EQ((*commands)[0], "cat <<EOF\nbody line\nEOF");
  EXPECT_EQ((*commands)[1], "echo next");
}

// Regression (deep fuzzing): the same with a comment line instead of the
// blank one left a blank before the body, and the command then split into
// one without it.
TEST(SplitScriptCommands, NoBlankIsLeftBeforeAHereDocumentsBody) {
  auto commands = split_script_commands("cat <<EOF \\\n  # why\nbody\nEOF\n");
  ASSERT_TRUE(commands) << commands.error().message;
  ASSERT_EQ(commands->size(), 1u);
  EXPECT_EQ(commands->front(), "cat <<EOF\nbody\nEOF");
  auto again = split_script_commands(commands->front());
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *commands);
}

// Regression (deep fuzzing): a here-document whose delimiter is a blank
// (`<<\ `) lost its delimiter line to the trimming of the command's end.
TEST(SplitScriptCommands, ABlankDelimiterLineIsKept) {
  auto commands = split_script_commands("cat <<\\ \nbody\n \necho next\n");
  ASSERT_TRUE(commands) << commands.error().message;
  ASSERT_EQ(commands->size(), 2u);
  EXPECT_EQ((*commands)[0], "cat <<\\ \nbody\n ");
  auto again = split_script_commands((*commands)[0]);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->front(),
            (*commands)[0]);  // Without a word there is no here-document, and blanks after `<<` go.
  auto no_word = split_script_commands("echo a <<   \n");
  ASSERT_TRUE(no_word);
  EXPECT_EQ(no_word->front(), "echo a <<");
}

// Regression (deep fuzzing): "\f#" after a continuation was a command, but
// on its own line it was read as a comment: only blanks may come before a
// comment's '#'.
TEST(SplitScriptCommands, OnlyBlanksComeBeforeAComment) {
  auto commands = split_script_commands("\f#x\n  # note\n");
  ASSERT_TRUE(commands) << commands.error().message;
  ASSERT_EQ(commands->size(), 1u);
  EXPECT_EQ(commands->front(), "\f#x");
}

TEST(SplitScriptCommands, RejectsATrailingOperator) {
  auto result = split_script_commands("mkdir d &&\n");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().message,
            "command 'mkdir d &&' ends with an operator and nothing follows");
}

// Found by the cards fuzz target: a blank escaped with a backslash at the end
// of a line was trimmed like any other, leaving a lone backslash ("\ " became
// "\", which then swallowed the line break). An escaped blank, '#' after it
// and an escaped '|' are all plain characters, as in sh.
TEST(SplitScriptCommands, EscapedCharactersAtTheEndOfALineAreKept) {
  EXPECT_THAT(must_split("\\ "), ElementsAre("\\ "));
  EXPECT_THAT(must_split("mkdir my\\ \necho b\n"), ElementsAre("mkdir my\\ ", "echo b"));
  EXPECT_THAT(must_split("echo a\\ \\\nb\n"), ElementsAre("echo a\\ b"));
  EXPECT_THAT(must_split("echo a\\ #not a comment\n"), ElementsAre("echo a\\ #not a comment"));
  EXPECT_THAT(must_split("echo a \\|\necho b\n"), ElementsAre("echo a \\|", "echo b"));
  EXPECT_THAT(must_split("echo a # comment\\ \n"), ElementsAre("echo a"));
}

// Found by the cards fuzz target: "a &&\" on the last line was accepted as
// the command "a &&", though "a &&" there is refused, and "cat <<EOF \" as a
// command whose here-document never comes. An operator is now found across a
// backslash continuation, as sh does, and an unended here-document is
// refused however the script ends.
TEST(SplitScriptCommands, BackslashContinuationsKeepOperatorsAndHereDocumentsOpen) {
  EXPECT_THAT(must_split("a &\\\n& b\n"), ElementsAre("a && b"));
  EXPECT_THAT(must_split("a && \\\n  b\n"), ElementsAre("a && b"));
  EXPECT_THAT(must_split("a &&\\\n\nb\n"), ElementsAre("a && b"));
  EXPECT_THAT(must_split("a | \\\n  # comment\nb\n"), ElementsAre("a | b"));
  auto heredoc = split_script_commands("cat <<EOF \\");
  ASSERT_FALSE(heredoc.has_value());
  EXPECT_NE(heredoc.error().message.find("never ended"), std::string::npos);
  for (const char* bad : {"a &&\\", "|\\", "a ||\\\n"}) {
    auto result = split_script_commands(bad);
    ASSERT_FALSE(result.has_value()) << bad;
    EXPECT_NE(result.error().message.find("ends with an operator"), std::string::npos)
        << result.error().message;
  }
}

// Found by the cards fuzz target: "a ||\v" was trimmed to "a ||" once split,
// a command that then reads as unfinished. Only blanks (space, tab) are
// trimmed, as sh separates words only at those.
TEST(SplitScriptCommands, OnlyBlanksAreTrimmed) {
  EXPECT_THAT(must_split("  a ||\v\t\nb\n"), ElementsAre("a ||\v", "b"));
  // A command of white space alone is none, as a line of it is skipped.
  EXPECT_TRUE(must_split("\v \\").empty());
}

}  // namespace
}  // namespace haul::cards
