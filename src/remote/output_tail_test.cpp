#include "remote/output_tail.hpp"

#include <gtest/gtest.h>

namespace haul::remote {
namespace {

std::string fed(std::string_view text, std::size_t chunk = 1,
                std::vector<std::string> secrets = {}) {
  OutputTail tail(std::move(secrets));
  for (std::size_t at = 0; at < text.size(); at += chunk) tail.feed(text.substr(at, chunk));
  return tail.text();
}

TEST(OutputTail, FoldsRedrawsAndStripsColoursWhereverChunksSplit) {
  // wget on a terminal: one bar redrawn with '\r', coloured error lines.
  const std::string output =
      "Connecting to h... connected.\r\n"
      "lora.safetensors   10%[=>      ]  1.00M  --.-KB/s\r"
      "lora.safetensors   55%[====>   ]  5.50M  5.1MB/s\r"
      "lora.safetensors  100%[=======>] 10.00M  5.2MB/s    in 2.0s\r\n"
      "\x1b[1;31mERROR 404: Not Found.\x1b[0m\n"
      "\x1b]0;title\x07"
      "done";
  const std::string expected =
      "Connecting to h... connected.\n"
      "lora.safetensors  100%[=======>] 10.00M  5.2MB/s    in 2.0s\n"
      "ERROR 404: Not Found.\n"
      "done";
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 1000u})
    EXPECT_EQ(fed(output, chunk), expected) << chunk;
}

TEST(OutputTail, KeepsTheLastLinesWithinTheCapsAndCountsEveryLine) {
  OutputTail tail({}, 3, 1000);
  for (int i = 0; i < 10; ++i) tail.feed("line " + std::to_string(i) + "\n");
  EXPECT_EQ(tail.text(), "line 7\nline 8\nline 9\n");
  EXPECT_EQ(tail.lines_total(), 10u);
  OutputTail small({}, 200, 20);
  small.feed("0123456789\nabcdefghij\nXYZ\n");
  EXPECT_EQ(small.text(), "abcdefghij\nXYZ\n") << "at most max_bytes, whole lines";
  OutputTail wide;
  wide.feed(std::string(10000, 'x') + "\n");
  EXPECT_EQ(wide.text().size(), OutputTail::kMaxLineBytes + 4) << "a line is cut and marked";
}

TEST(OutputTail, SecretsFromTheEnvironmentNeverAppear) {
  const std::string token = "hf_secret_token_42";
  const std::string text = "curl -H 'Authorization: Bearer " + token + "' ...\nusing " + token;
  const std::string out = fed(text, 5, {token, "ab"});
  EXPECT_EQ(out.find(token), std::string::npos) << out;
  EXPECT_EQ(out, "curl -H 'Authorization: Bearer ***' ...\nusing ***");
  EXPECT_NE(fed("about", 1, {"ab"}).find("ab"), std::string::npos) << "short values stay";
}

}  // namespace
}  // namespace haul::remote
