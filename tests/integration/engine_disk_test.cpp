// Disk-side failures: a full disk (injected behind the FileSystem interface),
// too little free space, a hash mismatch. None may leave a file at the final name.
#include "engine_fixture.hpp"
#include "faulty_file_system.hpp"

namespace haul::testing {
namespace {

namespace fs = std::filesystem;

TEST_F(EngineTest, NotEnoughSpaceFailsBeforeTheDownloadRuns) {
  auto faulty = std::make_shared<FaultyFileSystem>();
  faulty->reported_space = 1u << 20;
  options.file_system = faulty;
  Resource resource = file(random_bytes(8u << 20, 31));
  resource.rate = 2u << 20;
  server.add("/huge.bin", resource);

  auto result = engine().wait(engine().start(request_for("/huge.bin")));

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kNoSpace);
  EXPECT_EQ(result.error().message,
            "not enough space on " + dir.path().string() + ": need 8.00 MiB, have 1.00 MiB");
  EXPECT_EQ(faulty->bytes_written.load(), 0u);
  EXPECT_FALSE(fs::exists(dir / "huge.bin"));
  EXPECT_LT(server.bytes_sent("/huge.bin"), 2u << 20);
}

TEST_F(EngineTest, DiskFullMidDownloadFailsAndKeepsNoFinalFile) {
  auto faulty = std::make_shared<FaultyFileSystem>();
  faulty->write_budget = 1u << 20;
  options.file_system = faulty;
  const std::string body = random_bytes(4u << 20, 32);
  server.add("/full.bin", file(body));

  auto result = engine().wait(engine().start(request_for("/full.bin")));

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kNoSpace);
  EXPECT_NE(result.error().message.find("disk full on " + dir.path().string()), std::string::npos)
      << result.error().message;
  EXPECT_FALSE(fs::exists(dir / "full.bin"));
  // What did reach the disk is kept for a resume once space is freed.
  EXPECT_TRUE(fs::exists(dir / "full.bin.part"));
  faulty->write_budget = UINT64_MAX;
  auto resumed = engine().wait(engine().start(request_for("/full.bin")));
  ASSERT_TRUE(resumed) << resumed.error().message;
  EXPECT_EQ(read_file(dir / "full.bin"), body);
}

TEST_F(EngineTest, FailingFlushFailsTheDownload) {
  auto faulty = std::make_shared<FaultyFileSystem>();
  faulty->fail_datasync = true;
  options.file_system = faulty;
  server.add("/flush.bin", file(random_bytes(1u << 20, 33)));
  auto result = engine().wait(engine().start(request_for("/flush.bin")));
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("Input/output error"), std::string::npos)
      << result.error().message;
  EXPECT_FALSE(fs::exists(dir / "flush.bin"));
}

TEST_F(EngineTest, HashMismatchDiscardsThePartAndNamesBothHashes) {
  const std::string body = random_bytes(1u << 20, 34);
  server.add("/bad.bin", file(body));
  auto request = request_for("/bad.bin");
  const std::string wrong(64, 'a');
  request.sha256 = wrong;

  auto result = engine().wait(engine().start(request));

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kDataLoss);
  EXPECT_EQ(result.error().message,
            "sha256 mismatch for bad.bin: expected " + wrong + ", got " + sha256_of(body));
  EXPECT_TRUE(fs::is_empty(dir.path())) << "no final file, no .part, no state";
}

TEST_F(EngineTest, InvalidRequestsAreRefusedUpFront) {
  auto expect_invalid = [&](transfer::TransferRequest request, std::string_view needle) {
    auto id = engine().engine().start(std::move(request));
    ASSERT_FALSE(id);
    EXPECT_EQ(id.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(id.error().message.find(needle), std::string::npos) << id.error().message;
  };
  auto request = request_for("/x");
  request.url = "ftp://example.com/x";
  expect_invalid(request, "only http and https");
  request = request_for("/x");
  request.url = "not a url";
  expect_invalid(request, "invalid URL 'not a url'");
  request = request_for("/x");
  request.sha256 = "abc";
  expect_invalid(request, "invalid sha256 'abc'");
  request = request_for("/x");
  request.headers = {"NoColon"};
  expect_invalid(request, "invalid header 'NoColon'");
  request = request_for("/x");
  request.headers = {"X-Evil: a\r\nHost: other"};
  expect_invalid(request, "invalid header");
  request = request_for("/x");
  request.output_dir = "/etc/hostname/sub";
  expect_invalid(request, "not a directory");
}

}  // namespace
}  // namespace haul::testing
