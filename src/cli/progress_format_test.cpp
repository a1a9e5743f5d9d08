#include "cli/progress_format.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace haul::cli {
namespace {

using transfer::TransferStage;

FileStatus downloading(std::uint64_t done, std::uint64_t total) {
  FileStatus s;
  s.id = 7;
  s.source = "http://example.com/m.gguf";
  s.progress.destination = "models/m.gguf";
  s.progress.stage = TransferStage::kDownloading;
  s.progress.bytes_done = done;
  s.progress.total = total;
  s.progress.speed = 10.0 * 1024 * 1024;
  s.progress.eta = std::chrono::seconds(13);
  return s;
}

TEST(ProgressFormat, BarLineShowsPercentAmountSpeedAndEta) {
  const std::string line = format_bar_line(downloading(512ull << 20, 1024ull << 20), 100);
  EXPECT_NE(line.find("m.gguf"), std::string::npos) << line;
  EXPECT_NE(line.find(" 50% "), std::string::npos) << line;
  EXPECT_NE(line.find("512 MiB/1.00 GiB"), std::string::npos) << line;
  EXPECT_NE(line.find("10.0 MiB/s"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA 13s"), std::string::npos) << line;
  EXPECT_NE(line.find("[====="), std::string::npos) << line;
  EXPECT_LE(line.size(), 100u);
}

TEST(ProgressFormat, BarLineFitsNarrowTerminalsWithoutTheBar) {
  const std::string line = format_bar_line(downloading(1, 4), 40);
  EXPECT_LE(line.size(), 40u) << line;
  EXPECT_EQ(line.find('['), std::string::npos) << line;
}

TEST(ProgressFormat, PlainLineWithoutTotalHasNoPercent) {
  FileStatus s = downloading(3000, 0);
  s.progress.total.reset();
  EXPECT_EQ(format_plain_line(s).find('%'), std::string::npos);
  EXPECT_NE(format_plain_line(s).find("2.93 KiB"), std::string::npos) << format_plain_line(s);
}

TEST(ProgressFormat, LabelFallsBackToTheSourceUntilTheNameIsKnown) {
  FileStatus s = downloading(0, 10);
  s.progress.destination.clear();
  EXPECT_EQ(s.label(), "http://example.com/m.gguf");
  s.progress.stage = TransferStage::kRetrying;
  s.progress.note = "503 Service Unavailable, retrying in 2s";
  EXPECT_NE(format_plain_line(s).find("retrying in 2s"), std::string::npos);
}

TEST(ProgressFormat, OutcomeLineForFailureNamesSourceAndReason) {
  FileStatus s = downloading(0, 10);
  s.state = FileStatus::State::kFailed;
  s.error = Error{ErrorCode::kNotFound, "404 Not Found", 404};
  EXPECT_EQ(format_outcome_line(s), "haul get: m.gguf: 404 Not Found");
  s.progress.destination.clear();  // not named yet: the source as given
  EXPECT_EQ(format_outcome_line(s), "haul get: http://example.com/m.gguf: 404 Not Found");
}

TEST(ProgressFormat, OutcomeLineForSuccessReportsSizeAndResume) {
  FileStatus s = downloading(10, 10);
  s.state = FileStatus::State::kDone;
  s.result = transfer::TransferResult{"models/m.gguf", 4ull << 30, "ab", false, 1ull << 30};
  s.ended = s.started + std::chrono::seconds(3);
  const std::string line = format_outcome_line(s);
  EXPECT_NE(line.find("models/m.gguf: done, 4.00 GiB in 3s (1.00 GiB/s)"), std::string::npos)
      << line;
  EXPECT_NE(line.find("resumed at 1.00 GiB"), std::string::npos) << line;
}

TEST(ProgressFormat, JsonEventsAreSingleLineObjects) {
  FileStatus s = downloading(5, 10);
  auto progress = nlohmann::json::parse(format_json_event(s));
  EXPECT_EQ(progress["event"], "progress");
  EXPECT_EQ(progress["bytes"], 5);
  EXPECT_EQ(progress["total"], 10);
  EXPECT_EQ(progress["stage"], "downloading");
  EXPECT_EQ(progress["eta"], 13);

  s.state = FileStatus::State::kFailed;
  s.error = Error{ErrorCode::kDataLoss, "sha256 mismatch for m.gguf: expected a, got b"};
  const std::string text = format_json_event(s);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  auto failed = nlohmann::json::parse(text);
  EXPECT_EQ(failed["event"], "error");
  EXPECT_EQ(failed["code"], "data_loss");
}

}  // namespace
}  // namespace haul::cli
