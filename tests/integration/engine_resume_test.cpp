// Resume and existing files: a paused download continues where its state
// says, a changed remote file starts over, a finished file is not fetched again.
#include "engine_fixture.hpp"
#include "transfer/resume_state.hpp"

namespace haul::testing {
namespace {

namespace fs = std::filesystem;

transfer::ResumeState read_state(const fs::path& state_file) {
  auto state = transfer::parse_resume_state(read_file(state_file));
  EXPECT_TRUE(state) << (state ? "" : state.error().message);
  return state.value_or(transfer::ResumeState{});
}

class ResumeTest : public EngineTest {
 protected:
  // Downloads `path` until at least `bytes` arrived, then pauses it.
  void download_part_of(std::string_view path, std::uint64_t bytes) {
    EngineHarness first(options);
    auto request = request_for(path);
    request.connections = 4;
    const auto id = first.start(request);
    ASSERT_TRUE(first.wait_for_bytes(id, bytes))
        << "the download finished or stalled before the pause";
    first.engine().stop(id, /*keep_partial=*/true);
    auto result = first.wait(id);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::kCancelled);
  }
};

TEST_F(ResumeTest, PausedDownloadFetchesOnlyTheMissingBytes) {
  const std::string body = random_bytes(6u << 20, 21);
  Resource resource = file(body);
  resource.rate = 3u << 20;
  server.add("/resume.bin", resource);

  download_part_of("/resume.bin", 2u << 20);
  ASSERT_TRUE(fs::exists(dir / "resume.bin.part"));
  const auto state = read_state(dir / "resume.bin.part.state");
  const std::uint64_t kept = state.done.covered();
  EXPECT_GE(kept, 2u << 20) << "a clean stop saves everything received";
  EXPECT_EQ(state.validator.size, body.size());
  EXPECT_FALSE(state.validator.etag.empty());

  server.clear_log();
  auto request = request_for("/resume.bin");
  request.sha256 = sha256_of(body);
  auto result = engine().wait(engine().start(request));

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(dir / "resume.bin"), body);
  EXPECT_EQ(result->resumed_bytes, kept);
  EXPECT_LE(server.bytes_sent("/resume.bin"), body.size() - kept + (1u << 20));
  EXPECT_GE(server.bytes_sent("/resume.bin"), body.size() - kept);
  for (const auto& r : server.requests_for("/resume.bin")) {
    if (r.headers.count("range") != 0 && r.headers.at("range") != "bytes=0-") {
      EXPECT_EQ(r.headers.count("if-range"), 1u) << r.headers.at("range");
    }
  }
  EXPECT_FALSE(fs::exists(dir / "resume.bin.part.state"));
}

TEST_F(ResumeTest, ChangedRemoteFileRestartsFromZero) {
  const std::string old_body = random_bytes(4u << 20, 22);
  const std::string new_body = random_bytes(4u << 20, 23);
  Resource resource = file(old_body);
  resource.rate = 3u << 20;
  server.add("/model.bin", resource);
  download_part_of("/model.bin", 1u << 20);

  server.add("/model.bin", file(new_body));  // a new version with a new ETag
  auto result = engine().wait(engine().start(request_for("/model.bin")));

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->resumed_bytes, 0u);
  EXPECT_EQ(read_file(dir / "model.bin"), new_body);
}

TEST_F(ResumeTest, StateWithoutItsPartFileIsIgnored) {
  const std::string body = random_bytes(1u << 20, 24);
  server.add("/lost.bin", file(body));
  transfer::ResumeState bogus;
  bogus.validator.size = body.size();
  bogus.done.add({0, body.size() / 2});
  write_file(dir / "lost.bin.part.state", transfer::serialize_resume_state(bogus));

  auto result = engine().wait(engine().start(request_for("/lost.bin")));

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(dir / "lost.bin"), body);
}

TEST_F(EngineTest, CompleteFileIsNotFetchedAgain) {
  const std::string body = random_bytes(4u << 20, 25);
  server.add("/done.bin", file(body));
  ASSERT_TRUE(engine().wait(engine().start(request_for("/done.bin"))));
  Resource slow = file(body);
  slow.rate = 1u << 20;  // a full download would now take four seconds
  server.add("/done.bin", slow);
  server.clear_log();
  const auto started = std::chrono::steady_clock::now();

  auto again = engine().wait(engine().start(request_for("/done.bin")));

  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->already_present);
  EXPECT_EQ(again->destination, dir / "done.bin");
  EXPECT_LT(server.bytes_sent("/done.bin"), 1u << 20) << "only the probe's first bytes may flow";
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

TEST_F(EngineTest, ExistingFileIsVerifiedAgainstTheExpectedHash) {
  const std::string body = random_bytes(1u << 20, 26);
  server.add("/checked.bin", file(body));
  write_file(dir / "checked.bin", body);
  auto request = request_for("/checked.bin");
  request.sha256 = sha256_of(body);

  auto result = engine().wait(engine().start(request));

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_TRUE(result->already_present);
  EXPECT_EQ(result->sha256, sha256_of(body));
}

TEST_F(EngineTest, ExistingFileWithTheWrongContentIsReplaced) {
  const std::string body = random_bytes(1u << 20, 27);
  server.add("/replace.bin", file(body));
  write_file(dir / "replace.bin", random_bytes(body.size(), 28));  // same size, other bytes
  auto request = request_for("/replace.bin");
  request.sha256 = sha256_of(body);

  auto result = engine().wait(engine().start(request));

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_FALSE(result->already_present);
  EXPECT_EQ(read_file(dir / "replace.bin"), body);
}

TEST_F(EngineTest, TwoEnginesNeverWriteOnePartFile) {
  Resource resource = file(random_bytes(4u << 20, 30));
  resource.rate = 1u << 20;
  server.add("/contended.bin", resource);
  const auto first = engine().start(request_for("/contended.bin"));
  ASSERT_TRUE(engine().wait_for_bytes(first, 256u << 10));

  EngineHarness other(options);  // stands for a second haul process
  auto second = other.wait(other.start(request_for("/contended.bin")));

  ASSERT_FALSE(second);
  EXPECT_NE(
      second.error().message.find("contended.bin.part is being written by another haul process"),
      std::string::npos)
      << second.error().message;
  engine().engine().stop(first, /*keep_partial=*/false);
  (void)engine().wait(first);
}

TEST_F(EngineTest, CancelDeletesThePartialFile) {
  Resource resource = file(random_bytes(4u << 20, 29));
  resource.rate = 1u << 20;
  server.add("/cancel.bin", resource);
  const auto id = engine().start(request_for("/cancel.bin"));
  ASSERT_TRUE(engine().wait_for_bytes(id, 256u << 10));
  const auto stopped_at = std::chrono::steady_clock::now();
  engine().engine().stop(id, /*keep_partial=*/false);
  auto result = engine().wait(id);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, std::chrono::seconds(1));
  EXPECT_FALSE(fs::exists(dir / "cancel.bin.part"));
  EXPECT_FALSE(fs::exists(dir / "cancel.bin.part.state"));
  EXPECT_FALSE(fs::exists(dir / "cancel.bin"));
}

}  // namespace
}  // namespace haul::testing
