#include "remote/progress/line_splitter.hpp"

#include <gtest/gtest.h>

#include "remote/progress/progress_test_support.hpp"
#include "remote/progress/tqdm_parser.hpp"

namespace haul::remote::progress {
namespace {

using testing::read_testdata;

std::vector<Line> split(std::string_view text, std::size_t chunk = 0) {
  LineSplitter splitter;
  std::vector<Line> lines;
  const std::size_t step = chunk == 0 ? std::max<std::size_t>(text.size(), 1) : chunk;
  for (std::size_t at = 0; at < text.size(); at += step)
    splitter.feed(text.substr(at, step), lines);
  splitter.finish(lines);
  return lines;
}

TEST(LineSplitter, EndsLinesAtNewlineAndCrlf) {
  const auto lines = split("a\nb\r\nc");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].text, "a");
  EXPECT_EQ(lines[0].end, LineEnd::kNewline);
  EXPECT_EQ(lines[1].text, "b");
  EXPECT_EQ(lines[1].end, LineEnd::kNewline) << "\\r\\n is one newline (ssh -tt output)";
  EXPECT_EQ(lines[2].text, "c");
  EXPECT_EQ(lines[2].end, LineEnd::kEndOfOutput);
}

TEST(LineSplitter, TreatsALoneCarriageReturnAsARedraw) {
  const auto lines = split("\rone\rtwo\rthree\n");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].text, "one");
  EXPECT_EQ(lines[0].end, LineEnd::kCarriageReturn);
  EXPECT_EQ(lines[1].text, "two");
  EXPECT_EQ(lines[1].end, LineEnd::kCarriageReturn);
  EXPECT_EQ(lines[2].text, "three");
  EXPECT_EQ(lines[2].end, LineEnd::kNewline);
}

TEST(LineSplitter, KeepsEmptyNewlineLinesButNotEmptyRedraws) {
  const auto lines = split("\r\r\n\nx\r");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].text, "");
  EXPECT_EQ(lines[1].text, "");
  EXPECT_EQ(lines[2].text, "x");
  EXPECT_EQ(lines[2].end, LineEnd::kCarriageReturn) << "the output ended after a redraw";
}

TEST(LineSplitter, StripsColourCodes) {
  // aria2c colours [NOTICE] even when writing to a file.
  const auto lines = split("11/30 11:53:49 [\x1b[1;32mNOTICE\x1b[0m] Downloading 1 item(s)\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "11/30 11:53:49 [NOTICE] Downloading 1 item(s)");
}

TEST(LineSplitter, StripsCursorMovesTitlesAndCharsetSelection) {
  const auto lines = split(
      "\x1b[2K\x1b[Aabc\x1b]0;title\x07"
      "def\x1b(Bghi\x1b[?25l\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "abcdefghi");
}

TEST(LineSplitter, AColourCodeBetweenCrAndLfKeepsTheNewline) {
  const auto lines = split("done\r\x1b[0m\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "done");
  EXPECT_EQ(lines[0].end, LineEnd::kNewline);
}

TEST(LineSplitter, JoinsAnEscapeSplitAcrossChunks) {
  LineSplitter splitter;
  std::vector<Line> lines;
  splitter.feed("ab\x1b[3", lines);
  EXPECT_EQ(splitter.pending(), "ab");
  splitter.feed("2mcd\n", lines);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "abcd");
}

TEST(LineSplitter, DropsControlBytesButKeepsTabsAndUtf8) {
  const auto lines = split(std::string("a\tb\x07"
                                       "c\x08",
                                       6) +
                           std::string(1, '\0') + "d\xE2\x96\x8D\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "a\tbcd\xE2\x96\x8D");
}

TEST(LineSplitter, CapsVeryLongLines) {
  const auto lines = split(std::string(LineSplitter::kMaxLineBytes + 5000, 'x') + "\nnext\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text.size(), LineSplitter::kMaxLineBytes);
  EXPECT_EQ(lines[1].text, "next");
}

TEST(LineSplitter, GivesTheSameLinesHoweverTheOutputIsCut) {
  for (const char* name :
       {"aria2c_tty.txt", "wget_bar_tty.txt", "civitdl_standin_401.txt", "tqdm_hf_download.txt"}) {
    const std::string data = read_testdata(name);
    const auto whole = split(data);
    for (std::size_t chunk : {1u, 2u, 7u, 64u}) {
      const auto cut = split(data, chunk);
      ASSERT_EQ(cut.size(), whole.size()) << name << " in chunks of " << chunk;
      for (std::size_t i = 0; i < whole.size(); ++i) {
        EXPECT_EQ(cut[i].text, whole[i].text) << name;
        EXPECT_EQ(cut[i].end, whole[i].end) << name;
      }
    }
  }
}

TEST(LineParser, ReportsAWholeFrameBeforeTheNextRedrawEndsIt) {
  TqdmParser parser;
  auto first = parser.feed("\rModel:  45%|####5     | 1.01G/2.23G [00:20<00:24, 50.0MiB/s]");
  ASSERT_EQ(first.size(), 2u) << "stage start and the frame, without waiting for a line end";
  EXPECT_EQ(first[1].kind, ProgressUpdate::Kind::kProgress);
  EXPECT_EQ(first[1].percent, 45.0);
  // The next redraw ends the frame already reported: no second copy of it.
  auto second = parser.feed("\rModel:  50%|#####     | 1.12G/2.23G [00:22<00:22, 50.0MiB/s]");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].percent, 50.0);
  // A frame cut before its ']' waits for the rest.
  EXPECT_TRUE(parser.feed("\rModel:  55%|#####5    | 1.23G/2.23G [00:24<00:20, 50.").empty());
  auto third = parser.feed("0MiB/s]");
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].percent, 55.0);
  EXPECT_TRUE(parser.finish().empty()) << "the pending frame was reported already";
}

TEST(LineParser, FeedAfterFinishReturnsNothing) {
  TqdmParser parser;
  (void)parser.finish();
  EXPECT_TRUE(
      parser.feed("Model:  45%|####5     | 1.01G/2.23G [00:20<00:24, 50.0MiB/s]\n").empty());
}

}  // namespace
}  // namespace haul::remote::progress
