#include "daemon/log_format.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace haul::daemon {
namespace {

using nlohmann::json;

TEST(JsonLogLine, LiftsTheJobAndTheErrorsContextIntoFields) {
  const json line = json::parse(json_log_line(
      "2026-12-07T04:30:00.123Z", "error",
      "job 1f0c6a52-8f0e-4c41-9a53-3f6f2d1f8a10: failed: 503 Service Unavailable (gave up after 5 "
      "attempts) [stage=transfer file=model.safetensors attempt=5 code=unavailable]"));
  EXPECT_EQ(line.at("time"), "2026-12-07T04:30:00.123Z");
  EXPECT_EQ(line.at("level"), "error");
  EXPECT_EQ(line.at("job"), "1f0c6a52-8f0e-4c41-9a53-3f6f2d1f8a10");
  EXPECT_EQ(line.at("stage"), "transfer");
  EXPECT_EQ(line.at("file"), "model.safetensors");
  EXPECT_EQ(line.at("attempt"), 5);
  EXPECT_EQ(line.at("code"), "unavailable");
  EXPECT_EQ(line.at("message"), "failed: 503 Service Unavailable (gave up after 5 attempts)");
}

TEST(JsonLogLine, PlainLinesKeepTheirTextAndStayOneValidLine) {
  const std::string text = json_log_line("t", "info", "haul 0.1 serving on \"x\"\nsecond\xff");
  EXPECT_EQ(text.find('\n'), std::string::npos);
  const json line = json::parse(text);
  EXPECT_FALSE(line.contains("job"));
  EXPECT_EQ(line.at("message"), "haul 0.1 serving on \"x\"\nsecond\xef\xbf\xbd");
  EXPECT_EQ(json::parse(json_log_line("t", "info", "job x: item 2: done")).at("item"), "2");
}

}  // namespace
}  // namespace haul::daemon
