// `haul get` on Hugging Face sources, against the fake Hub: single files
// through HEAD + CDN, repos and globs through the tree API, the errors users
// meet (gated, private, missing), rate limits, the HF cache layout, resume.
#include <gtest/gtest.h>
#include <signal.h>

#include <cctype>
#include <thread>

#include "harness.hpp"
#include "support/fake_hf.hpp"
#include "support/test_http_server.hpp"
#include "transfer/resume_state.hpp"

namespace haul::testing {
namespace {

namespace fs = std::filesystem;

std::string to_lower_copy(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

class HfGetTest : public ::testing::Test {
 protected:
  HfGetTest() : hub(server) {}

  // HF_HOME points into the test's folder so no real token or cache is used.
  std::vector<std::string> env(std::string token = "hf_testtoken") const {
    std::vector<std::string> vars = {"HF_ENDPOINT=" + hub.endpoint(),
                                     "HF_HOME=" + (dir / "hf-home").string(),
                                     "HF_HUB_CACHE=" + (dir / "hub").string(), "HF_TOKEN=" + token};
    return vars;
  }

  HfFakeRepo model_repo() const {
    HfFakeRepo repo;
    repo.id = "acme/tiny-model";
    repo.files = {
        {"model.safetensors", random_bytes(3u << 20, 1), true},
        {"config.json", R"({"hidden_size": 64})", false},
        {"split_files/vae/vae.safetensors", random_bytes(1u << 20, 2), true},
        {"split_files/text_encoders/te.safetensors", random_bytes(512u << 10, 3), true},
        {"README.md", "# tiny\n", false},
    };
    return repo;
  }

  std::vector<RequestRecord> cdn_requests() const {
    std::vector<RequestRecord> cdn;
    for (const auto& record : server.requests())
      if (record.local_address == "127.0.0.2") cdn.push_back(record);
    return cdn;
  }

  TestHttpServer server;
  FakeHuggingFace hub;
  TempDir dir;
};

TEST_F(HfGetTest, OneLfsFileIsPinnedVerifiedAndItsTokenNeverReachesTheCdn) {
  const HfFakeRepo repo = model_repo();
  hub.add_repo(repo);
  const auto out = dir / "out";
  const auto outcome = run_haul(
      {"get", "hf://acme/tiny-model/split_files/vae/vae.safetensors", "-d", out.string()}, env());
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  // One named file lands under its own name, not under the repo's folders.
  EXPECT_EQ(read_file(out / "vae.safetensors"), repo.files[2].content);

  bool saw_head = false;
  for (const auto& record : server.requests()) {
    if (record.method != "HEAD" || record.local_address != "127.0.0.1") continue;
    saw_head = true;
    EXPECT_EQ(record.headers.at("authorization"), "Bearer hf_testtoken");
    EXPECT_EQ(record.headers.at("accept-encoding"), "identity");
  }
  EXPECT_TRUE(saw_head);
  const auto cdn = cdn_requests();
  ASSERT_FALSE(cdn.empty());
  for (const auto& record : cdn) {
    EXPECT_EQ(record.headers.count("authorization"), 0u) << record.path;
    EXPECT_NE(record.status, 400) << "the CDN refused a request carrying a token";
  }
}

TEST_F(HfGetTest, AHuggingFaceUrlOnTheEndpointWorksLikeHfScheme) {
  const HfFakeRepo repo = model_repo();
  hub.add_repo(repo);
  const auto out = dir / "out";
  for (const std::string& form : {hub.endpoint() + "/acme/tiny-model/resolve/main/config.json",
                                  hub.endpoint() + "/acme/tiny-model/blob/main/README.md"}) {
    const auto outcome = run_haul({"get", form, "-d", out.string()}, env());
    ASSERT_EQ(outcome.exit_code, 0) << form << "\n" << outcome.err;
  }
  EXPECT_EQ(read_file(out / "config.json"), repo.files[1].content);
  EXPECT_EQ(read_file(out / "README.md"), repo.files[4].content);
}

TEST_F(HfGetTest, AWholeRepoComesThroughThePaginatedTreeWithItsFolders) {
  const HfFakeRepo repo = model_repo();
  hub.add_repo(repo);
  hub.set_tree_page_size(2);  // three pages
  const auto out = dir / "out";
  const auto outcome = run_haul({"get", "hf://acme/tiny-model", "-d", out.string()}, env());
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  for (const auto& file : repo.files)
    EXPECT_EQ(read_file(out / file.path), file.content) << file.path;
  int tree_pages = 0;
  for (const auto& record : server.requests())
    if (record.path.find("/tree/") != std::string::npos) ++tree_pages;
  EXPECT_EQ(tree_pages, 4) << "5 files and 3 folder entries, 2 per page";
}

TEST_F(HfGetTest, GlobsAndIncludeExcludeFollowSnapshotDownloadSemantics) {
  const HfFakeRepo repo = model_repo();
  hub.add_repo(repo);
  const auto glob_out = dir / "glob";
  // `*` crosses '/', as in fnmatch: every .safetensors, nested ones included.
  auto outcome =
      run_haul({"get", "hf://acme/tiny-model/*.safetensors", "-d", glob_out.string()}, env());
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_TRUE(fs::exists(glob_out / "model.safetensors"));
  EXPECT_TRUE(fs::exists(glob_out / "split_files/vae/vae.safetensors"));
  EXPECT_TRUE(fs::exists(glob_out / "split_files/text_encoders/te.safetensors"));
  EXPECT_FALSE(fs::exists(glob_out / "config.json"));

  const auto filtered = dir / "filtered";
  outcome = run_haul({"get", "hf://acme/tiny-model", "--include", "split_files/", "--exclude",
                      "*text_encoders*", "-d", filtered.string()},
                     env());
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_TRUE(fs::exists(filtered / "split_files/vae/vae.safetensors"));
  EXPECT_FALSE(fs::exists(filtered / "split_files/text_encoders/te.safetensors"));
  EXPECT_FALSE(fs::exists(filtered / "model.safetensors"));
}

TEST_F(HfGetTest, EachRefusalSaysWhatIsWrong) {
  HfFakeRepo gated = model_repo();
  gated.id = "acme/gated";
  gated.access = HfFakeRepo::Access::kGated;
  hub.add_repo(gated);
  hub.add_repo(model_repo());
  struct Case {
    std::string source;
    std::string token;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"hf://acme/gated/model.safetensors", "", "gated"},
      {"hf://acme/gated/model.safetensors", "hf_other", "Invalid credentials"},
      {"hf://acme/missing-repo/model.safetensors", "hf_testtoken", "not found"},
      {"hf://acme/tiny-model/nope.safetensors", "hf_testtoken", "nope.safetensors"},
      {"hf://acme/tiny-model@no-such-branch/model.safetensors", "hf_testtoken", "no-such-branch"},
  };
  for (const Case& c : cases) {
    auto vars = env(c.token);
    if (c.token.empty()) vars.back() = "HF_TOKEN=";
    const auto outcome = run_haul({"get", c.source, "-d", (dir / "x").string()}, vars);
    EXPECT_EQ(outcome.exit_code, 1) << c.source << "\n" << outcome.err;
    EXPECT_EQ(lines_of(outcome.err).size(), 1u) << outcome.err;
    EXPECT_TRUE(contains(to_lower_copy(outcome.err), to_lower_copy(c.expected)))
        << c.source << ": " << outcome.err;
    EXPECT_FALSE(contains(outcome.err, "hf_testtoken")) << "token leaked: " << outcome.err;
  }
  EXPECT_FALSE(fs::exists(dir / "x" / "model.safetensors"));
}

TEST_F(HfGetTest, TheTokenFileOfHfAuthLoginIsUsedWithoutHfToken) {
  HfFakeRepo gated = model_repo();
  gated.id = "acme/gated";
  gated.access = HfFakeRepo::Access::kGated;
  hub.add_repo(gated);
  fs::create_directories(dir / "hf-home");
  write_file(dir / "hf-home" / "token", "hf_testtoken\n");
  auto vars = env();
  vars.back() = "HF_TOKEN=";
  const auto out = dir / "out";
  const auto outcome = run_haul({"get", "hf://acme/gated/config.json", "-d", out.string()}, vars);
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(read_file(out / "config.json"), gated.files[1].content);
}

TEST_F(HfGetTest, ARateLimitIsWaitedOutAndARenamedRepoFollowed) {
  HfFakeRepo repo = model_repo();
  repo.renamed_from = "acme/old-name";
  hub.add_repo(repo);
  hub.rate_limit_next(1, 1);
  const auto out = dir / "out";
  const auto outcome =
      run_haul({"get", "hf://acme/old-name/model.safetensors", "-d", out.string()}, env());
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(read_file(out / "model.safetensors"), repo.files[0].content);
  EXPECT_TRUE(contains(outcome.err, "trying again")) << outcome.err;
}

TEST_F(HfGetTest, TheHfCacheLayoutIsWhatHuggingfaceHubReads) {
  const HfFakeRepo repo = model_repo();
  hub.add_repo(repo);
  const auto outcome = run_haul({"get", "hf://acme/tiny-model", "--hf-cache"}, env());
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const fs::path root = dir / "hub" / "models--acme--tiny-model";
  const std::string commit = hub.commit_of("acme/tiny-model");
  EXPECT_EQ(read_file(root / "refs" / "main"), commit);  // no newline
  for (const auto& file : repo.files) {
    const fs::path link = root / "snapshots" / commit / file.path;
    ASSERT_TRUE(fs::is_symlink(link)) << link;
    const std::string blob =
        file.lfs ? sha256_of(file.content) : FakeHuggingFace::git_blob_sha1(file.content);
    std::string up = "../../";
    for (char c : file.path)
      if (c == '/') up += "../";
    EXPECT_EQ(fs::read_symlink(link).string(), up + "blobs/" + blob) << file.path;
    EXPECT_EQ(read_file(link), file.content) << file.path;
  }

  // Everything is cached now: a second run fetches no byte from the CDN.
  server.clear_log();
  const auto again = run_haul({"get", "hf://acme/tiny-model", "--hf-cache"}, env());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(cdn_requests().empty());

  // Offline, a cached file still resolves; an uncached one is named.
  auto offline = env();
  offline.push_back("HF_HUB_OFFLINE=1");
  server.clear_log();
  EXPECT_EQ(run_haul({"get", "hf://acme/tiny-model/config.json", "--hf-cache"}, offline).exit_code,
            0);
  const auto missing = run_haul({"get", "hf://acme/other/x.bin", "--hf-cache"}, offline);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(contains(missing.err, "HF_HUB_OFFLINE")) << missing.err;
  EXPECT_TRUE(server.requests().empty()) << "offline means no request at all";
}

// Issue 10 item 3: offline mode cannot change by waiting: one line, no retry.
TEST_F(HfGetTest, OfflineWithNothingCachedFailsAtOnce) {
  auto offline = env();
  offline.push_back("HF_HUB_OFFLINE=1");
  const auto outcome =
      run_haul({"get", "hf://acme/tiny-model/config.json", "-d", (dir / "o").string()}, offline);
  EXPECT_EQ(outcome.exit_code, 1) << outcome.err;
  const auto lines = lines_of(outcome.err);
  ASSERT_EQ(lines.size(), 1u) << "no 'trying again' notices: " << outcome.err;
  EXPECT_EQ(lines[0].rfind("haul get: hf://acme/tiny-model/config.json: HF_HUB_OFFLINE", 0), 0u)
      << lines[0];
  EXPECT_TRUE(server.requests().empty()) << "offline means no request at all";
}

TEST_F(HfGetTest, AKilledRepoDownloadResumesAndVerifiesEveryFile) {
  HfFakeRepo repo;
  repo.id = "acme/big";
  repo.files = {{"a.safetensors", random_bytes(6u << 20, 11), true},
                {"b.safetensors", random_bytes(6u << 20, 12), true},
                {"c/config.json", R"({"x":1})", false}};
  hub.add_repo(repo);
  const auto out = dir / "out";
  {
    HaulProcess first({"get", "hf://acme/big", "-d", out.string(), "--limit-rate", "3M"}, env());
    // Kill once a checkpoint records real progress.
    ASSERT_TRUE(eventually(
        [&] {
          auto state = transfer::parse_resume_state(read_file(out / "a.safetensors.part.state"));
          return state && state->done.covered() >= (2u << 20);
        },
        std::chrono::seconds(60)));
    first.signal(SIGKILL);
    first.wait();
  }
  ASSERT_FALSE(fs::exists(out / "a.safetensors") && fs::exists(out / "b.safetensors"));
  server.clear_log();
  const auto outcome = run_haul({"get", "hf://acme/big", "-d", out.string()}, env());
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  for (const auto& file : repo.files) EXPECT_EQ(read_file(out / file.path), file.content);
  // The second run asked for the missing bytes only.
  std::uint64_t sent_after = 0;
  bool resumed = false;
  for (const auto& record : cdn_requests()) {
    sent_after += record.body_bytes;
    auto range = record.headers.find("range");
    if (range != record.headers.end() && range->second.rfind("bytes=0-", 0) != 0) resumed = true;
  }
  EXPECT_TRUE(resumed);
  EXPECT_LT(sent_after, (12u << 20) - (2u << 20)) << "the second run refetched kept bytes";
}

}  // namespace
}  // namespace haul::testing
