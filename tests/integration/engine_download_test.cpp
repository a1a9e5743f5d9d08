// The engine's normal paths: segmented downloads, servers without ranges or
// lengths, naming, concurrency and speed caps.
#include <algorithm>
#include <set>

#include "engine_fixture.hpp"
#include "faulty_file_system.hpp"
#include "net/git_blob_sha1.hpp"

namespace haul::testing {
namespace {

namespace fs = std::filesystem;

TEST_F(EngineTest, SegmentedDownloadSpreadsOverConnectionsAndVerifies) {
  const std::string body = random_bytes(8u << 20, 1);
  Resource resource = file(body);
  resource.rate = 4u << 20;  // slow enough that every connection gets work
  server.add("/model.bin", resource);
  auto request = request_for("/model.bin");
  request.connections = 6;
  request.sha256 = sha256_of(body);

  auto result = engine().wait(engine().start(request));

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->sha256, sha256_of(body));
  EXPECT_EQ(result->size, body.size());
  EXPECT_EQ(result->destination, dir / "model.bin");
  EXPECT_EQ(read_file(dir / "model.bin"), body);
  EXPECT_FALSE(fs::exists(dir / "model.bin.part"));
  EXPECT_FALSE(fs::exists(dir / "model.bin.part.state"));
  std::set<std::string> ranges;
  for (const auto& r : server.requests_for("/model.bin"))
    ranges.insert(r.headers.count("range") ? r.headers.at("range") : "");
  EXPECT_GE(ranges.size(), 6u) << "expected one range request per connection at least";
  // Nothing was fetched twice: splits cut connections off at their new end.
  EXPECT_LE(server.bytes_sent("/model.bin"), body.size() + 6 * (512u << 10));
  const auto progress = engine().progress(1);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().stage, transfer::TransferStage::kDone);
  int most_connections = 0;
  for (const auto& p : progress) most_connections = std::max(most_connections, p.connections);
  EXPECT_GE(most_connections, 4);
}

TEST_F(EngineTest, BufferedWritesGiveTheSameFile) {
  options.direct_io = false;
  const std::string body = random_bytes((5u << 20) + 4097, 9);  // an unaligned tail
  Resource resource = file(body);
  resource.rate = 8u << 20;
  server.add("/buffered.bin", resource);
  auto request = request_for("/buffered.bin");
  request.sha256 = sha256_of(body);
  auto result = engine().wait(engine().start(request));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(dir / "buffered.bin"), body);
}

std::string git_blob_id(const std::string& content) {
  net::GitBlobSha1 blob(content.size());
  blob.update(content);
  return blob.hex();
}

// Small Hugging Face files carry a git blob id instead of a SHA-256: it is
// computed while the bytes arrive, and the file keeps its .part name until
// it matched (issue 11: it was re-read after the rename, on the daemon's
// control thread).
TEST_F(EngineTest, AGitBlobIdIsCheckedBeforeTheFileGetsItsName) {
  const std::string body = random_bytes(300'000, 21);
  server.add("/config.json", file(body));
  auto request = request_for("/config.json");
  request.git_blob_sha1 = git_blob_id(body);
  auto result = engine().wait(engine().start(request));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(dir / "config.json"), body);

  server.add("/tampered.json", file(body));
  auto wrong = request_for("/tampered.json");
  wrong.git_blob_sha1 = git_blob_id(body + "x");
  auto failed = engine().wait(engine().start(wrong));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kDataLoss);
  EXPECT_NE(failed.error().message.find("git blob id mismatch for tampered.json: expected " +
                                        wrong.git_blob_sha1 + ", got " + git_blob_id(body)),
            std::string::npos)
      << failed.error().message;
  EXPECT_FALSE(fs::exists(dir / "tampered.json"));
  EXPECT_FALSE(fs::exists(dir / "tampered.json.part"));

  // Without a length the id is taken from the finished .part, still before the rename.
  Resource chunked = file(body);
  chunked.chunked = true;
  server.add("/chunked.json", chunked);
  auto unsized = request_for("/chunked.json");
  unsized.git_blob_sha1 = git_blob_id(body);
  auto done = engine().wait(engine().start(unsized));
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(read_file(dir / "chunked.json"), body);
  unsized.git_blob_sha1 = git_blob_id("other");
  unsized.output_file = dir / "chunked2.json";
  unsized.output_dir.clear();
  EXPECT_FALSE(engine().wait(engine().start(unsized)));
  EXPECT_FALSE(fs::exists(dir / "chunked2.json"));
}

TEST_F(EngineTest, AnExistingFileOfTheRightSizeIsKeptOnlyIfItsGitBlobIdMatches) {
  const std::string body = random_bytes(50'000, 22);
  server.add("/small.json", file(body));
  write_file(dir / "small.json", std::string(body.size(), 'x'));  // right size, wrong bytes
  auto request = request_for("/small.json");
  request.git_blob_sha1 = git_blob_id(body);
  auto result = engine().wait(engine().start(request));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(dir / "small.json"), body) << "replaced";
  auto again = engine().wait(engine().start(request));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->already_present) << "it matches now: kept, not fetched again";
  EXPECT_EQ(read_file(dir / "small.json"), body);
}

TEST_F(EngineTest, TinyBufferPoolNeitherDeadlocksNorCorrupts) {
  // Fewer buffers than connections: connections wait for buffers, the
  // hasher gets almost none kept and reads the file back.
  options.max_buffers = 3;
  const std::string body = random_bytes(6u << 20, 10);
  Resource resource = file(body);
  resource.rate = 6u << 20;
  server.add("/tiny.bin", resource);
  auto request = request_for("/tiny.bin");
  request.connections = 8;
  request.sha256 = sha256_of(body);
  auto result = engine().wait(engine().start(request), std::chrono::seconds(30));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(dir / "tiny.bin"), body);
}

// Bytes beyond what the hasher keeps in memory go through the page cache, so
// hashing them costs a copy, never a second trip to the disk. Regression: a
// full budget evicted buffers already written with O_DIRECT, and the hasher
// read most of a fast download back from the disk.
TEST_F(EngineTest, TheHasherReadsBackOnlyBytesThatWentThroughThePageCache) {
  auto recording = std::make_shared<FaultyFileSystem>();
  options.file_system = recording;
  options.hash_buffers = 2;
  const std::string body = random_bytes(16u << 20, 14);
  server.add("/spill.bin", file(body));
  auto request = request_for("/spill.bin");
  request.connections = 4;
  request.sha256 = sha256_of(body);
  auto result = engine().wait(engine().start(request), std::chrono::seconds(30));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(dir / "spill.bin"), body);
  if (recording->direct_bytes_written.load() == 0)
    GTEST_SKIP() << dir.path() << " takes no O_DIRECT writes";
  EXPECT_GT(recording->bytes_read.load(), 0u) << "four connections outrun two kept buffers";
  EXPECT_EQ(recording->direct_bytes_read.load(), 0u);
}

// Regression: the buffers kept for the hashers were capped per file, so two
// fast downloads could hold the whole shared pool and stall each other.
TEST_F(EngineTest, DownloadsSharingASmallPoolDoNotStarveEachOther) {
  options.max_buffers = 8;
  std::vector<std::string> bodies;
  std::vector<transfer::TransferId> ids;
  for (int i = 0; i < 3; ++i) {
    bodies.push_back(random_bytes(8u << 20, 200 + static_cast<std::uint32_t>(i)));
    server.add("/shared" + std::to_string(i), file(bodies.back()));
  }
  for (int i = 0; i < 3; ++i) {
    auto request = request_for("/shared" + std::to_string(i));
    request.connections = 4;
    request.sha256 = sha256_of(bodies[static_cast<std::size_t>(i)]);
    ids.push_back(engine().start(request));
  }
  for (int i = 0; i < 3; ++i) {
    auto result = engine().wait(ids[static_cast<std::size_t>(i)], std::chrono::seconds(20));
    ASSERT_TRUE(result) << result.error().message;
  }
}

TEST_F(EngineTest, PiecesAreHandedOutInFileOrder) {
  // In-order pieces keep the written bytes one contiguous prefix plus a short
  // window, which is what lets the hash keep pace with the download.
  options.min_piece = 256u << 10;
  const std::string body = random_bytes(16u << 20, 12);
  Resource resource = file(body);
  resource.rate = 4u << 20;
  server.add("/ordered.bin", resource);
  auto request = request_for("/ordered.bin");
  request.connections = 4;
  ASSERT_TRUE(engine().wait(engine().start(request)));
  std::vector<std::uint64_t> starts;
  for (const auto& r : server.requests_for("/ordered.bin")) {
    const std::string& range = r.headers.at("range");  // "bytes=N-..."
    starts.push_back(std::stoull(range.substr(6)));
  }
  ASSERT_GE(starts.size(), 5u);
  // One request per connection, and all of them near the front: in-order
  // pieces, not four connections spread over the whole file (0, 8, 4, 12 MiB).
  EXPECT_EQ(starts[0], 0u);
  for (std::size_t i = 1; i < 4; ++i) EXPECT_LT(starts[i], body.size() / 4) << "request " << i;
}

TEST_F(EngineTest, ServerWithoutRangeSupportGetsOneConnection) {
  const std::string body = random_bytes(3u << 20, 2);
  Resource resource = file(body);
  resource.ranges = false;
  server.add("/plain.bin", resource);

  auto result = engine().wait(engine().start(request_for("/plain.bin")));

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(dir / "plain.bin"), body);
  EXPECT_EQ(server.requests_for("/plain.bin").size(), 1u);
}

TEST_F(EngineTest, ChunkedResponseWithoutLengthIsSavedWhole) {
  const std::string body = random_bytes((2u << 20) + 123, 3);
  Resource resource = file(body);
  resource.chunked = true;
  server.add("/stream.bin", resource);

  auto result = engine().wait(engine().start(request_for("/stream.bin")));

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->size, body.size());
  EXPECT_EQ(result->sha256, sha256_of(body));
  EXPECT_EQ(read_file(dir / "stream.bin"), body);
}

TEST_F(EngineTest, EmptyFileIsCreated) {
  server.add("/empty.txt", file(""));
  auto result = engine().wait(engine().start(request_for("/empty.txt")));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->size, 0u);
  EXPECT_EQ(result->sha256, sha256_of(""));
  EXPECT_TRUE(fs::exists(dir / "empty.txt"));
  EXPECT_EQ(fs::file_size(dir / "empty.txt"), 0u);
}

TEST_F(EngineTest, OutputFileNameIsUsedAsGiven) {
  const std::string body = random_bytes(100000, 4);
  server.add("/a/b/c.bin", file(body));
  auto request = request_for("/a/b/c.bin");
  request.output_dir.clear();
  request.output_file = dir / "sub" / "renamed.safetensors";

  auto result = engine().wait(engine().start(request));

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(dir / "sub" / "renamed.safetensors"), body);
}

TEST_F(EngineTest, NameComesFromContentDispositionOverTheUrl) {
  Resource resource = file("weights");
  resource.content_disposition =
      "attachment; filename=\"fallback.bin\"; filename*=UTF-8''lora%20v2.safetensors";
  server.add("/api/download/models/1900322", resource);

  auto result = engine().wait(engine().start(request_for("/api/download/models/1900322")));

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->destination, dir / "lora v2.safetensors");
  EXPECT_EQ(read_file(dir / "lora v2.safetensors"), "weights");
}

TEST_F(EngineTest, HostileContentDispositionStaysInsideTheDirectory) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"attachment; filename=\"../../escape.sh\"", "escape.sh"},
      {"attachment; filename=\"/etc/cron.d/evil\"", "evil"},
      {"attachment; filename*=UTF-8''..%2F..%2Fup.bin", "up.bin"},
      {"attachment; filename=\"..\"", "file3"},
      {"attachment; filename=\"a\x01\x1b[31mb.bin\"", "a[31mb.bin"},
      {"attachment; filename=\".bashrc\"", "bashrc"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    Resource resource = file("payload" + std::to_string(i));
    resource.content_disposition = cases[i].first;
    server.add("/file" + std::to_string(i), resource);
  }
  for (std::size_t i = 0; i < cases.size(); ++i) {
    auto result = engine().wait(engine().start(request_for("/file" + std::to_string(i))));
    ASSERT_TRUE(result) << cases[i].first << ": " << result.error().message;
    EXPECT_EQ(result->destination, dir / cases[i].second) << cases[i].first;
    EXPECT_EQ(read_file(dir / cases[i].second), "payload" + std::to_string(i));
  }
  // Nothing was written outside the scratch directory's own files.
  for (const auto& entry : fs::recursive_directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().parent_path(), dir.path()) << entry.path();
  }
}

TEST_F(EngineTest, NameFallsBackToTheDecodedUrlPath) {
  server.add("/models/flux%20dev.gguf", file("gguf"));
  auto result = engine().wait(engine().start(request_for("/models/flux%20dev.gguf?download=true")));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->destination, dir / "flux dev.gguf");
}

TEST_F(EngineTest, ManyDownloadsRunAtOnce) {
  std::vector<std::string> bodies;
  std::vector<transfer::TransferId> ids;
  for (int i = 0; i < 10; ++i) {
    bodies.push_back(random_bytes((1u << 20) + static_cast<std::size_t>(i) * 777,
                                  100 + static_cast<std::uint32_t>(i)));
    Resource resource = file(bodies.back());
    resource.rate = 1u << 20;  // a second a file
    server.add("/f" + std::to_string(i) + ".bin", resource);
  }
  for (int i = 0; i < 10; ++i) {
    auto request = request_for("/f" + std::to_string(i) + ".bin");
    request.connections = 2;
    request.sha256 = sha256_of(bodies[static_cast<std::size_t>(i)]);
    ids.push_back(engine().start(request));
  }
  // All ten are on the wire at once, which downloads run one after another
  // (ten seconds) never show, however fast or slow the machine.
  const auto files_in_flight = [&] {
    std::set<std::string> paths;
    for (const RequestRecord& record : server.requests())
      if (!record.ended) paths.insert(record.path);
    return paths.size();
  };
  std::size_t most = 0;
  EXPECT_TRUE(eventually(
      [&] {
        most = std::max(most, files_in_flight());
        return most == 10;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(5)))
      << "at most " << most << " downloads ran at once";
  for (int i = 0; i < 10; ++i) {
    auto result = engine().wait(ids[static_cast<std::size_t>(i)]);
    ASSERT_TRUE(result) << result.error().message;
    EXPECT_EQ(read_file(dir / ("f" + std::to_string(i) + ".bin")),
              bodies[static_cast<std::size_t>(i)]);
  }
}

TEST_F(EngineTest, TwoDownloadsToOneDestinationAreRefused) {
  Resource slow = file(random_bytes(1u << 20, 5));
  slow.rate = 1u << 20;
  server.add("/same.bin", slow);
  const auto first = engine().start(request_for("/same.bin"));
  ASSERT_TRUE(engine().wait_for_bytes(first, 1));
  auto second = engine().wait(engine().start(request_for("/same.bin")));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(second.error().message.find("already being written"), std::string::npos)
      << second.error().message;
  EXPECT_TRUE(engine().wait(first));
}

TEST_F(EngineTest, PerTransferRateLimitHolds) {
  const std::string body = random_bytes(3u << 20, 6);
  server.add("/capped.bin", file(body));
  auto request = request_for("/capped.bin");
  request.rate_limit = 1u << 20;  // 1 MiB/s, so about 3 s
  const auto started = std::chrono::steady_clock::now();
  auto result = engine().wait(engine().start(request));
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_GE(elapsed, std::chrono::milliseconds(2500));
  EXPECT_LT(elapsed, std::chrono::milliseconds(6000));
}

TEST_F(EngineTest, GlobalRateLimitIsSharedByAllTransfers) {
  options.global_rate_limit = 2u << 20;
  const std::string a = random_bytes(3u << 20, 7);
  const std::string b = random_bytes(3u << 20, 8);
  server.add("/a.bin", file(a));
  server.add("/b.bin", file(b));
  const auto started = std::chrono::steady_clock::now();
  const auto id_a = engine().start(request_for("/a.bin"));
  const auto id_b = engine().start(request_for("/b.bin"));
  ASSERT_TRUE(engine().wait(id_a));
  ASSERT_TRUE(engine().wait(id_b));
  // 6 MiB at 2 MiB/s overall: about 3 s, not the 1.5 s two 2 MiB/s caps would allow.
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(2500));
}

TEST_F(EngineTest, UserAgentNamesHaulAndItsVersion) {
  server.add("/ua", file("x"));
  ASSERT_TRUE(engine().wait(engine().start(request_for("/ua"))));
  const auto requests = server.requests_for("/ua");
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests.front().headers.at("user-agent").rfind("haul/", 0), 0u);
}

}  // namespace
}  // namespace haul::testing
