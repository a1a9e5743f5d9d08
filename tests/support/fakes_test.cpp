// The fakes' own test: FakeHuggingFace, FakeCivitai and FakeS3 driven by
// plain libcurl requests, checking the protocol details haul's resolvers and
// engine rely on (headers, redirects to the other host, pagination, error
// codes and bodies, ranges, SigV4 verification).
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/fake_civitai.hpp"
#include "support/fake_hf.hpp"
#include "support/fake_s3.hpp"
#include "support/test_http_server.hpp"

namespace haul::testing {
namespace {

using nlohmann::json;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class CurlEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { ASSERT_EQ(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK); }
  void TearDown() override { curl_global_cleanup(); }
};
[[maybe_unused]] const auto* const curl_environment =
    ::testing::AddGlobalTestEnvironment(new CurlEnvironment);

struct Options {
  std::vector<std::string> headers{};
  std::string range{};
  bool head = false;
  bool follow = false;
  std::string aws_sigv4{};  // CURLOPT_AWS_SIGV4, with `userpwd`
  std::string userpwd{};
};

struct Reply {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body{};
  std::vector<std::string> header_lines{};  // of the last response

  std::optional<std::string> header(std::string_view name) const {
    for (const auto& line : header_lines) {
      const auto colon = line.find(':');
      if (colon == name.size() &&
          std::equal(name.begin(), name.end(), line.begin(), [](unsigned char a, unsigned char b) {
            return std::tolower(a) == std::tolower(b);
          })) {
        auto value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        value.erase(value.find_last_not_of("\r\n ") + 1);
        return value;
      }
    }
    return std::nullopt;
  }
  json body_json() const { return json::parse(body, nullptr, false); }
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<Reply*>(user)->body.append(data, size * count);
  return size * count;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto& lines = static_cast<Reply*>(user)->header_lines;
  std::string line(data, size * count);
  if (line.starts_with("HTTP/")) {
    lines.clear();
  }
  lines.push_back(std::move(line));
  return size * count;
}

Reply fetch(const std::string& url, const Options& options = {}) {
  Reply reply;
  CURL* easy = curl_easy_init();
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &reply);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT, 15L);
  curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(easy, CURLOPT_NOBODY, options.head ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, options.follow ? 1L : 0L);
  if (!options.range.empty()) {
    curl_easy_setopt(easy, CURLOPT_RANGE, options.range.c_str());
  }
  if (!options.aws_sigv4.empty()) {
    curl_easy_setopt(easy, CURLOPT_AWS_SIGV4, options.aws_sigv4.c_str());
    curl_easy_setopt(easy, CURLOPT_USERPWD, options.userpwd.c_str());
  }
  curl_slist* headers = nullptr;
  for (const auto& header : options.headers) {
    headers = curl_slist_append(headers, header.c_str());
  }
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  reply.code = curl_easy_perform(easy);
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(easy);
  return reply;
}

std::string pattern(std::size_t size) {
  std::string body(size, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    body[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  }
  return body;
}

// The sha256 an LFS pointer names.
std::string lfs_oid(const std::string& content) {
  const auto pointer = FakeHuggingFace::lfs_pointer(content);
  return pointer.substr(pointer.find("sha256:") + 7, 64);
}

std::string escape(const std::string& text) {
  char* escaped = curl_easy_escape(nullptr, text.c_str(), static_cast<int>(text.size()));
  std::string result(escaped);
  curl_free(escaped);
  return result;
}

// ---- TestHttpServer::add_prefix_handler ----------------------------------

TEST(PrefixHandlerTest, LongestPrefixWinsAndExactRoutesComeFirst) {
  TestHttpServer server;
  const auto answer = [](const std::string& text) {
    return [text](const TestHttpServer::Request& request) {
      return TestHttpServer::Response{200, {}, text + " " + request.path};
    };
  };
  server.add_prefix_handler("/", answer("root"));
  server.add_prefix_handler("/api/", answer("api"));
  server.add_prefix_handler("/api/v1/", answer("v1"));
  server.add("/api/v1/exact", {.body = "exact"});
  EXPECT_EQ(fetch(server.url("/other/x")).body, "root /other/x");
  EXPECT_EQ(fetch(server.url("/api/models/x")).body, "api /api/models/x");
  EXPECT_EQ(fetch(server.url("/api/v1/models/1")).body, "v1 /api/v1/models/1");
  EXPECT_EQ(fetch(server.url("/api/v1/exact")).body, "exact");
  const auto head = fetch(server.url("/api/x"), {.head = true});
  EXPECT_EQ(head.header("Content-Length"), "10");
  EXPECT_TRUE(head.body.empty());
}

// ---- FakeHuggingFace ------------------------------------------------------

class FakeHfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub_.add_repo({.id = "org/model",
                   .refs = {{"main", kMain}, {"v1.0", kTag}, {"refs/pr/1", kPr}},
                   .files = {{.path = "config.json", .content = config_, .lfs = false},
                             {.path = "model.safetensors", .content = weights_},
                             {.path = "sub/deep/c.bin", .content = "c"},
                             {.path = "sub/b.bin", .content = "b"},
                             {.path = "z.txt", .content = "z", .lfs = false}}});
  }

  static constexpr const char* kMain = "1111111111111111111111111111111111111111";
  static constexpr const char* kTag = "2222222222222222222222222222222222222222";
  static constexpr const char* kPr = "3333333333333333333333333333333333333333";
  TestHttpServer server_;
  FakeHuggingFace hub_{server_, "hf_user", "hf_approved"};
  const std::string config_ = "{\"model_type\": \"llama\"}\n";
  const std::string weights_ = pattern(5000);
};

TEST_F(FakeHfTest, GitBlobIdsAndPointersMatchGit) {
  // `printf 'hello\n' | git hash-object --stdin`
  EXPECT_EQ(FakeHuggingFace::git_blob_sha1("hello\n"), "ce013625030ba8dba906f756967f9e9ca394464a");
  EXPECT_EQ(FakeHuggingFace::lfs_pointer("abc"),
            "version https://git-lfs.github.com/spec/v1\n"
            "oid sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
            "size 3\n");
}

TEST_F(FakeHfTest, SmallFileIsServedDirectlyWithBlobEtagAndCommit) {
  const auto url = hub_.resolve_url("org/model", "config.json");
  EXPECT_EQ(url, hub_.endpoint() + "/org/model/resolve/main/config.json");
  const auto head = fetch(url, {.head = true});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("X-Repo-Commit"), kMain);
  EXPECT_EQ(head.header("ETag"), "\"" + FakeHuggingFace::git_blob_sha1(config_) + "\"");
  EXPECT_EQ(head.header("Content-Length"), std::to_string(config_.size()));
  EXPECT_EQ(head.header("X-Linked-Size"), std::nullopt);
  const auto get = fetch(url, {.range = "2-5"});
  EXPECT_EQ(get.status, 206);
  EXPECT_EQ(get.body, config_.substr(2, 4));
  EXPECT_EQ(fetch(url).body, config_);
}

TEST_F(FakeHfTest, LfsFileRedirectsToSignedCdnOnTheOtherHost) {
  const auto head = fetch(hub_.resolve_url("org/model", "model.safetensors"), {.head = true});
  ASSERT_EQ(head.status, 302);
  const auto sha256 = lfs_oid(weights_);
  const auto location = head.header("Location").value_or("");
  EXPECT_THAT(location, StartsWith(server_.url("/cdn-lfs/" + sha256, "127.0.0.2") + "?"));
  EXPECT_THAT(location, HasSubstr("X-Amz-Algorithm=AWS4-HMAC-SHA256"));
  EXPECT_THAT(location, HasSubstr("X-Amz-Expires=3600"));
  EXPECT_THAT(location, HasSubstr("X-Amz-Signature="));
  EXPECT_EQ(head.header("X-Linked-Etag"), "\"" + sha256 + "\"");
  EXPECT_EQ(head.header("X-Linked-Size"), "5000");
  const auto pointer = FakeHuggingFace::lfs_pointer(weights_);
  EXPECT_EQ(head.header("ETag"), "\"" + FakeHuggingFace::git_blob_sha1(pointer) + "\"");
  EXPECT_EQ(head.header("Content-Length"), std::to_string(pointer.size()));
  EXPECT_EQ(head.header("X-Repo-Commit"), kMain);

  const auto part = fetch(location, {.range = "10-19"});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.header("Content-Range"), "bytes 10-19/5000");
  EXPECT_EQ(part.body, weights_.substr(10, 10));
  EXPECT_EQ(part.header("Content-Disposition"),
            "inline; filename*=UTF-8''model.safetensors; filename=\"model.safetensors\";");
  EXPECT_EQ(server_.requests().back().local_address, "127.0.0.2");
  EXPECT_EQ(fetch(location, {.range = "-5"}).body, weights_.substr(4995));
  EXPECT_EQ(fetch(location, {.range = "4990-"}).body, weights_.substr(4990));
  const auto beyond = fetch(location, {.range = "5000-"});
  EXPECT_EQ(beyond.status, 416);
  EXPECT_EQ(beyond.header("Content-Range"), "bytes */5000");
  const auto etag = part.header("ETag").value_or("");
  EXPECT_EQ(fetch(location, {.headers = {"If-Range: \"other\""}, .range = "0-9"}).status, 200);
  EXPECT_EQ(fetch(location, {.headers = {"If-Range: " + etag}, .range = "0-9"}).status, 206);
  const auto changed = fetch(location, {.headers = {"If-Match: \"other\""}, .range = "0-9"});
  EXPECT_EQ(changed.status, 412);
  EXPECT_THAT(changed.body, HasSubstr("<Code>PreconditionFailed</Code>"));
  EXPECT_EQ(fetch(location).body, weights_);
}

TEST_F(FakeHfTest, CdnRejectsTokensForgedAndExpiredUrls) {
  const auto location = fetch(hub_.resolve_url("org/model", "model.safetensors"), {.head = true})
                            .header("Location")
                            .value_or("");
  const auto with_token = fetch(location, {.headers = {"Authorization: Bearer hf_user"}});
  EXPECT_EQ(with_token.status, 400);
  EXPECT_THAT(with_token.body,
              HasSubstr("<Code>InvalidArgument</Code><Message>Only one auth mechanism allowed; "
                        "only the X-Amz-Algorithm query parameter, Signature query string "
                        "parameter or the Authorization header should be specified</Message>"));
  auto forged = location;
  forged.replace(forged.find("X-Amz-Signature=") + 16, 4, "ffff");
  EXPECT_EQ(fetch(forged).status, 403);
  hub_.expire_cdn_urls();
  const auto expired = fetch(location);
  EXPECT_EQ(expired.status, 403);
  EXPECT_THAT(expired.body, HasSubstr("<Message>Request has expired</Message>"));
}

TEST_F(FakeHfTest, RevisionsResolveByBranchTagCommitAndEncodedPrRef) {
  const auto commit = [&](const std::string& rev) {
    return fetch(hub_.endpoint() + "/org/model/resolve/" + rev + "/config.json", {.head = true})
        .header("X-Repo-Commit")
        .value_or("");
  };
  EXPECT_EQ(commit("main"), kMain);
  EXPECT_EQ(commit("v1.0"), kTag);
  EXPECT_EQ(commit("refs%2Fpr%2F1"), kPr);
  EXPECT_EQ(commit(kTag), kTag);
  EXPECT_EQ(hub_.commit_of("org/model"), kMain);

  const auto missing_rev = fetch(hub_.resolve_url("org/model", "config.json", "nope"));
  EXPECT_EQ(missing_rev.status, 404);
  EXPECT_EQ(missing_rev.header("X-Error-Code"), "RevisionNotFound");
  EXPECT_EQ(missing_rev.header("X-Error-Message"), "Invalid rev id: nope");
  const auto missing_file = fetch(hub_.resolve_url("org/model", "nope.bin"), {.head = true});
  EXPECT_EQ(missing_file.status, 404);
  EXPECT_EQ(missing_file.header("X-Error-Code"), "EntryNotFound");
  EXPECT_EQ(missing_file.header("X-Error-Message"), "Entry not found");
  EXPECT_EQ(missing_file.header("X-Repo-Commit"), kMain);
}

TEST_F(FakeHfTest, DatasetsAndRenamedReposUseTheirOwnPaths) {
  hub_.add_repo(
      {.type = "dataset", .id = "org/data", .files = {{.path = "d.csv", .content = "1"}}});
  hub_.add_repo({.id = "new-org/model",
                 .files = {{.path = "a.txt", .content = "a", .lfs = false}},
                 .renamed_from = "old-org/model"});
  EXPECT_EQ(fetch(hub_.resolve_url("org/data", "d.csv", "main", "dataset"), {.head = true}).status,
            302);
  EXPECT_EQ(fetch(hub_.resolve_url("org/data", "d.csv")).header("X-Error-Code"), "RepoNotFound");
  const auto renamed = fetch(hub_.resolve_url("old-org/model", "a.txt"));
  EXPECT_EQ(renamed.status, 307);
  EXPECT_EQ(renamed.header("Location"), "/new-org/model/resolve/main/a.txt");
  const auto followed = fetch(hub_.resolve_url("old-org/model", "a.txt"), {.follow = true});
  EXPECT_EQ(followed.status, 200);
  EXPECT_EQ(followed.body, "a");
  EXPECT_EQ(fetch(hub_.endpoint() + "/api/models/old-org/model/revision/main").header("Location"),
            "/api/models/new-org/model/revision/main");
}

TEST_F(FakeHfTest, AccessErrorsCarryTheHubsCodesAndMessages) {
  hub_.add_repo({.id = "org/private",
                 .files = {{.path = "a.txt", .content = "a", .lfs = false}},
                 .access = HfFakeRepo::Access::kPrivate});
  hub_.add_repo({.id = "org/gated",
                 .files = {{.path = "a.txt", .content = "a", .lfs = false}},
                 .access = HfFakeRepo::Access::kGated});
  hub_.add_repo({.id = "org/off",
                 .files = {{.path = "a.txt", .content = "a", .lfs = false}},
                 .access = HfFakeRepo::Access::kDisabled});
  const auto get = [&](const std::string& repo, const std::string& token = "") {
    Options options;
    if (!token.empty()) {
      options.headers.push_back("Authorization: Bearer " + token);
    }
    return fetch(hub_.resolve_url(repo, "a.txt"), options);
  };
  const auto missing = get("org/missing");
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.header("X-Error-Code"), "RepoNotFound");
  EXPECT_EQ(missing.header("X-Error-Message"), "Repository not found");
  EXPECT_EQ(missing.body_json(), json({{"error", "Repository not found"}}));
  EXPECT_EQ(get("org/missing", "hf_user").status, 404);
  EXPECT_EQ(get("org/private").status, 401);
  EXPECT_EQ(get("org/private").header("X-Error-Code"), "RepoNotFound");
  EXPECT_EQ(get("org/private", "hf_user").status, 200);

  const auto gated = get("org/gated");
  EXPECT_EQ(gated.status, 401);
  EXPECT_EQ(gated.header("X-Error-Code"), "GatedRepo");
  EXPECT_EQ(gated.header("X-Error-Message"),
            "Access to model org/gated is restricted. You must have access to it and be "
            "authenticated to access it. Please log in.");
  const auto not_approved = get("org/gated", "hf_user");
  EXPECT_EQ(not_approved.status, 403);
  EXPECT_EQ(not_approved.header("X-Error-Code"), "GatedRepo");
  EXPECT_THAT(not_approved.header("X-Error-Message").value_or(""),
              StartsWith("Access to model org/gated is restricted and you are not in the "
                         "authorized list. Visit "));
  EXPECT_EQ(get("org/gated", "hf_approved").status, 200);

  const auto bad_token = get("org/model", "hf_wrong");
  EXPECT_EQ(bad_token.status, 401);
  EXPECT_EQ(bad_token.header("X-Error-Message"), "Invalid credentials in Authorization header");
  const auto disabled = get("org/off", "hf_approved");
  EXPECT_EQ(disabled.status, 403);
  EXPECT_EQ(disabled.header("X-Error-Message"), "Access to this resource is disabled.");
  EXPECT_EQ(disabled.body_json(), json({{"error", "Access to this resource is disabled."}}));
}

TEST_F(FakeHfTest, RevisionApiListsSiblings) {
  const auto reply = fetch(hub_.endpoint() + "/api/models/org/model/revision/v1.0?blobs=true");
  ASSERT_EQ(reply.status, 200);
  const auto body = reply.body_json();
  EXPECT_EQ(body["id"], "org/model");
  EXPECT_EQ(body["sha"], kTag);
  ASSERT_EQ(body["siblings"].size(), 5U);
  EXPECT_EQ(body["siblings"][1]["rfilename"], "model.safetensors");
  EXPECT_EQ(body["siblings"][1]["size"], 5000);
  EXPECT_EQ(body["siblings"][1]["lfs"]["size"], 5000);
  EXPECT_FALSE(body["siblings"][0].contains("lfs"));
  const auto missing = fetch(hub_.endpoint() + "/api/models/org/model/revision/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("X-Error-Code"), "RevisionNotFound");
}

TEST_F(FakeHfTest, TreeIsPaginatedThroughLinkHeaders) {
  hub_.set_tree_page_size(2);
  std::vector<std::string> paths;
  std::string url = hub_.endpoint() + "/api/models/org/model/tree/main?recursive=true";
  json weights_entry;
  for (int page = 0; page < 10 && !url.empty(); ++page) {
    const auto reply = fetch(url);
    ASSERT_EQ(reply.status, 200) << url;
    const auto entries = reply.body_json();
    ASSERT_TRUE(entries.is_array());
    EXPECT_LE(entries.size(), 2U);
    for (const auto& entry : entries) {
      paths.push_back(entry["type"].get<std::string>() + ":" + entry["path"].get<std::string>());
      if (entry["path"] == "model.safetensors") {
        weights_entry = entry;
      }
    }
    const auto link = reply.header("Link");
    url.clear();
    if (link) {
      EXPECT_THAT(*link, StartsWith("<" + hub_.endpoint() +
                                    "/api/models/org/model/tree/main?recursive=true&cursor="));
      EXPECT_THAT(*link, EndsWith(">; rel=\"next\""));
      url = link->substr(1, link->find('>') - 1);
    }
  }
  EXPECT_EQ(paths,
            (std::vector<std::string>{"file:config.json", "file:model.safetensors", "directory:sub",
                                      "file:sub/b.bin", "directory:sub/deep", "file:sub/deep/c.bin",
                                      "file:z.txt"}));
  const auto pointer = FakeHuggingFace::lfs_pointer(weights_);
  EXPECT_EQ(weights_entry["oid"], FakeHuggingFace::git_blob_sha1(pointer));
  EXPECT_EQ(weights_entry["size"], 5000);
  EXPECT_EQ(weights_entry["lfs"]["oid"], lfs_oid(weights_));
  EXPECT_EQ(weights_entry["lfs"]["pointerSize"], pointer.size());

  hub_.set_tree_page_size(1000);
  const auto top = fetch(hub_.endpoint() + "/api/models/org/model/tree/main").body_json();
  EXPECT_EQ(top.size(), 4U);  // config.json, model.safetensors, sub, z.txt
  const auto sub = fetch(hub_.endpoint() + "/api/models/org/model/tree/main/sub?recursive=1");
  EXPECT_EQ(sub.body_json().size(), 3U);
  const auto nowhere = fetch(hub_.endpoint() + "/api/models/org/model/tree/main/nowhere");
  EXPECT_EQ(nowhere.status, 404);
  EXPECT_EQ(nowhere.header("X-Error-Code"), "EntryNotFound");
}

TEST_F(FakeHfTest, RateLimitAnswers429WithRateLimitHeaders) {
  hub_.rate_limit_next(2, 7);
  const auto resolve = fetch(hub_.resolve_url("org/model", "config.json"), {.head = true});
  EXPECT_EQ(resolve.status, 429);
  EXPECT_EQ(resolve.header("RateLimit"), "\"resolvers\";r=0;t=7");
  EXPECT_EQ(resolve.header("RateLimit-Policy"), "\"fixed window\";\"resolvers\";q=3000;w=300");
  EXPECT_EQ(resolve.header("Retry-After"), "7");
  const auto api = fetch(hub_.endpoint() + "/api/models/org/model/revision/main");
  EXPECT_EQ(api.status, 429);
  EXPECT_EQ(api.header("RateLimit"), "\"api\";r=0;t=7");
  EXPECT_EQ(fetch(hub_.resolve_url("org/model", "config.json")).status, 200);
}

// ---- FakeCivitai ----------------------------------------------------------

class FakeCivitaiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    civitai_.add_model(
        {.id = 100,
         .name = "Some Checkpoint",
         .type = "Checkpoint",
         .versions = {{.id = 201,
                       .name = "v2",
                       .files = {{.id = 301,
                                  .name = "config.yaml",
                                  .type = "Config",
                                  .content = "abc",
                                  .metadata = {{"format", "Other"}}},
                                 {.id = 302,
                                  .name = "some_v2.safetensors",
                                  .content = weights_,
                                  .primary = true,
                                  .metadata = {{"format", "SafeTensor"}, {"fp", "fp16"}}}},
                       .images = {"not really a png"}},
                      {.id = 200,
                       .name = "v1",
                       .files = {{.id = 300, .name = "v1.safetensors", .content = "v1"}}}}});
  }

  Reply download(std::uint64_t version, const std::string& query = "",
                 std::vector<std::string> headers = {}) {
    return fetch(civitai_.download_url(version) + query, {.headers = std::move(headers)});
  }

  TestHttpServer server_;
  FakeCivitai civitai_{server_};
  const std::string weights_ = pattern(3000);
};

TEST_F(FakeCivitaiTest, ModelVersionHasTheRealShape) {
  const auto reply = fetch(civitai_.endpoint() + "/api/v1/model-versions/201");
  ASSERT_EQ(reply.status, 200);
  const auto v = reply.body_json();
  EXPECT_EQ(v["id"], 201);
  EXPECT_EQ(v["modelId"], 100);
  EXPECT_EQ(v["name"], "v2");
  EXPECT_EQ(v["baseModel"], "SDXL 1.0");
  EXPECT_EQ(v["air"], "urn:air:sdxl:checkpoint:civitai:100@201");
  EXPECT_EQ(v["status"], "Published");
  EXPECT_EQ(v["availability"], "Public");
  EXPECT_EQ(
      v["model"],
      json({{"name", "Some Checkpoint"}, {"type", "Checkpoint"}, {"nsfw", false}, {"poi", false}}));
  EXPECT_EQ(v["downloadUrl"], civitai_.download_url(201));
  ASSERT_EQ(v["files"].size(), 2U);
  const auto& config = v["files"][0];
  EXPECT_FALSE(config.contains("primary"));
  EXPECT_EQ(config["downloadUrl"], civitai_.download_url(201) + "?type=Config&format=Other");
  EXPECT_DOUBLE_EQ(config["sizeKB"].get<double>(), 3.0 / 1024.0);
  EXPECT_EQ(config["hashes"]["SHA256"],
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  EXPECT_EQ(config["hashes"]["AutoV2"], "BA7816BF8F");
  EXPECT_EQ(config["hashes"]["CRC32"], "352441C2");
  const auto& primary = v["files"][1];
  EXPECT_EQ(primary["primary"], true);
  EXPECT_EQ(primary["downloadUrl"], civitai_.download_url(201));
  EXPECT_EQ(primary["metadata"], json({{"format", "SafeTensor"}, {"fp", "fp16"}}));
  ASSERT_EQ(v["images"].size(), 1U);
  EXPECT_EQ(v["images"][0]["type"], "image");
  const auto image = fetch(v["images"][0]["url"].get<std::string>());
  EXPECT_EQ(image.body, "not really a png");
  EXPECT_EQ(image.header("Content-Type"), "image/png");

  const auto missing = fetch(civitai_.endpoint() + "/api/v1/model-versions/999");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body_json(), json({{"error", "Model not found"}}));
  const auto by_hash = fetch(civitai_.endpoint() + "/api/v1/model-versions/by-hash/ba7816bf8f");
  EXPECT_EQ(by_hash.body_json()["id"], 201);
}

TEST_F(FakeCivitaiTest, ModelListsVersionsNewestFirst) {
  const auto model = fetch(civitai_.endpoint() + "/api/v1/models/100").body_json();
  EXPECT_EQ(model["name"], "Some Checkpoint");
  EXPECT_EQ(model["creator"]["username"], "fake-creator");
  EXPECT_TRUE(model["tags"].is_array());
  ASSERT_EQ(model["modelVersions"].size(), 2U);
  EXPECT_EQ(model["modelVersions"][0]["id"], 201);
  EXPECT_EQ(model["modelVersions"][1]["id"], 200);
  const auto missing = fetch(civitai_.endpoint() + "/api/v1/models/999");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body_json(), json({{"error", "No model with id 999"}}));
}

TEST_F(FakeCivitaiTest, DownloadRedirectsToCdnThatNamesTheFile) {
  const auto redirect = download(201);
  ASSERT_EQ(redirect.status, 307);
  const auto location = redirect.header("Location").value_or("");
  EXPECT_THAT(location, StartsWith(server_.url("/civitai-cdn/", "127.0.0.2")));
  const auto part = fetch(location, {.range = "100-199"});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, weights_.substr(100, 100));
  EXPECT_EQ(part.header("Content-Disposition"), "attachment; filename=\"some_v2.safetensors\"");
  EXPECT_EQ(part.header("Content-Range"), "bytes 100-199/3000");
  EXPECT_EQ(server_.requests().back().local_address, "127.0.0.2");
  const auto with_token = fetch(location, {.headers = {"Authorization: Bearer civitai_testtoken"}});
  EXPECT_EQ(with_token.status, 400);
  EXPECT_THAT(with_token.body, HasSubstr("<Code>InvalidArgument</Code>"));
  EXPECT_EQ(fetch(location, {.follow = true}).body, weights_);

  const auto config = fetch(download(201, "?type=Config&format=Other").header("Location").value());
  EXPECT_EQ(config.body, "abc");
  EXPECT_EQ(fetch(download(201, "?fileId=301").header("Location").value()).body, "abc");
  const auto wrong = download(201, "?type=Model&format=PickleTensor");
  EXPECT_EQ(wrong.status, 404);
  EXPECT_EQ(wrong.body_json(), json({{"error", "File not found"}}));
  civitai_.expire_cdn_urls();
  EXPECT_EQ(fetch(location).status, 403);
}

TEST_F(FakeCivitaiTest, DownloadRefusalsUseTheVerbatimJsonBodies) {
  civitai_.add_model({.id = 110,
                      .name = "Gated",
                      .type = "LORA",
                      .versions = {{.id = 211,
                                    .files = {{.id = 311, .name = "a.safetensors", .content = "a"}},
                                    .requires_login = true},
                                   {.id = 212,
                                    .files = {{.id = 312, .name = "b.safetensors", .content = "b"}},
                                    .downloads_disabled = true},
                                   {.id = 213,
                                    .files = {{.id = 313, .name = "c.safetensors", .content = "c"}},
                                    .early_access_deadline = "2999-01-01T00:00:00.000Z"},
                                   {.id = 214,
                                    .files = {{.id = 314, .name = "d.safetensors", .content = "d"}},
                                    .archived = true}}});
  const auto login = download(211);
  EXPECT_EQ(login.status, 401);
  EXPECT_EQ(
      login.body_json(),
      json({{"error", "Unauthorized"},
            {"message", "The creator of this asset requires you to be logged in to download it"}}));
  EXPECT_EQ(download(211, "", {"Authorization: Bearer civitai_testtoken"}).status, 307);
  EXPECT_EQ(download(211, "?token=civitai_testtoken").status, 307);
  EXPECT_EQ(download(211, "?token=wrong").status, 401);
  const auto browser = download(211, "", {"User-Agent: Mozilla/5.0"});
  EXPECT_EQ(browser.status, 307);
  EXPECT_THAT(browser.header("Location").value_or(""), HasSubstr("reason=download-auth"));

  EXPECT_EQ(download(212, "?token=civitai_testtoken").body_json(),
            json({{"error", "Unauthorized"},
                  {"message", "The creator of this asset has disabled downloads on this file"}}));
  const auto early = download(213);
  EXPECT_EQ(early.status, 403);
  EXPECT_EQ(early.body_json(),
            json({{"error", "Early Access"},
                  {"deadline", "2999-01-01T00:00:00.000Z"},
                  {"message", "This asset is in Early Access. You can use Buzz access it now!"}}));
  const auto archived = download(214);
  EXPECT_EQ(archived.status, 410);
  EXPECT_EQ(archived.body_json(), json({{"error", "Model archived, not available for download"}}));
  const auto archived_api = fetch(civitai_.endpoint() + "/api/v1/model-versions/214").body_json();
  EXPECT_TRUE(archived_api["files"].empty());
  EXPECT_FALSE(archived_api.contains("downloadUrl"));
  EXPECT_EQ(fetch(civitai_.endpoint() + "/api/v1/model-versions/213").body_json()["availability"],
            "EarlyAccess");
  EXPECT_EQ(download(999).body_json(), json({{"error", "File not found"}}));

  civitai_.rate_limit_next(1);
  const auto limited = download(201);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.body_json(),
            json({{"error",
                   "We've noticed an unusual amount of downloading from your account. Contact "
                   "support@civitai.com or come back later."}}));
  EXPECT_EQ(download(201).status, 307);
}

// ---- FakeS3 ---------------------------------------------------------------

class FakeS3Test : public ::testing::Test {
 protected:
  void SetUp() override { s3_.put_object("models", "dir/a b ü.bin", body_); }

  Reply signed_get(const std::string& url, std::vector<std::string> headers = {},
                   const std::string& secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                   const std::string& key = "AKIDEXAMPLE", bool payload_header = true) {
    if (payload_header) {
      headers.emplace_back("x-amz-content-sha256: UNSIGNED-PAYLOAD");
    }
    return fetch(url, {.headers = std::move(headers),
                       .aws_sigv4 = "aws:amz:us-east-1:s3",
                       .userpwd = key + ":" + secret});
  }

  TestHttpServer server_;
  FakeS3 s3_{server_};
  const std::string body_ = pattern(2000);
};

TEST_F(FakeS3Test, CurlSigV4RequestIsAcceptedAndServesRanges) {
  const auto url = s3_.object_url("models", "dir/a b ü.bin");
  EXPECT_EQ(url, s3_.endpoint() + "/models/dir/a%20b%20%C3%BC.bin");
  const auto reply = signed_get(url);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.body, body_);
  EXPECT_EQ(reply.header("ETag"), s3_.etag_of("models", "dir/a b ü.bin"));
  EXPECT_EQ(reply.header("Accept-Ranges"), "bytes");
  EXPECT_THAT(server_.requests().back().headers["authorization"],
              StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
  const auto part = signed_get(url, {"Range: bytes=1000-1099"});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, body_.substr(1000, 100));
  EXPECT_EQ(part.header("Content-Range"), "bytes 1000-1099/2000");
  EXPECT_EQ(s3_.signature_failures(), 0);
  s3_.put_object("b", "abc", "abc");
  EXPECT_EQ(s3_.etag_of("b", "abc"), "\"900150983cd24fb0d6963f7d28e17f72\"");  // md5("abc")
}

TEST_F(FakeS3Test, AuthenticationFailuresAnswerS3Errors) {
  const auto url = s3_.object_url("models", "dir/a b ü.bin");
  const auto bad_secret = signed_get(url, {}, "not-the-secret");
  EXPECT_EQ(bad_secret.status, 403);
  EXPECT_THAT(bad_secret.body, HasSubstr("<Code>SignatureDoesNotMatch</Code>"));
  EXPECT_EQ(s3_.signature_failures(), 1);
  EXPECT_THAT(signed_get(url, {}, "x", "AKIDOTHER").body,
              HasSubstr("<Code>InvalidAccessKeyId</Code>"));
  const auto no_payload =
      signed_get(url, {}, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "AKIDEXAMPLE", false);
  EXPECT_EQ(no_payload.status, 400);
  EXPECT_THAT(no_payload.body,
              HasSubstr("<Code>InvalidRequest</Code><Message>Missing required header for this "
                        "request: x-amz-content-sha256</Message>"));
  const auto anonymous = fetch(url);
  EXPECT_EQ(anonymous.status, 403);
  EXPECT_THAT(anonymous.body, HasSubstr("<Code>AccessDenied</Code>"));
  s3_.allow_anonymous("models");
  EXPECT_EQ(fetch(url).status, 200);

  s3_.expire_credentials(true);
  const auto expired = signed_get(url);
  EXPECT_EQ(expired.status, 400);
  EXPECT_THAT(expired.body,
              HasSubstr("<Code>ExpiredToken</Code><Message>The provided token has expired."));
  s3_.expire_credentials(false);

  s3_.set_session_token("session-token");
  EXPECT_EQ(signed_get(url, {"x-amz-security-token: session-token"}).status, 200);
  EXPECT_EQ(signed_get(url).status, 403);
  EXPECT_THAT(signed_get(url, {"x-amz-security-token: other"}).body,
              HasSubstr("<Code>InvalidToken</Code>"));
  EXPECT_EQ(s3_.signature_failures(), 1);
}

TEST_F(FakeS3Test, MissingObjectsAndPreconditions) {
  const auto missing = signed_get(s3_.object_url("models", "missing.bin"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_THAT(missing.body, HasSubstr("<Error><Code>NoSuchKey</Code><Message>The specified key "
                                      "does not exist.</Message><Key>missing.bin</Key>"
                                      "<RequestId>"));
  const auto head = fetch(s3_.object_url("models", "missing.bin"),
                          {.headers = {"x-amz-content-sha256: UNSIGNED-PAYLOAD"},
                           .head = true,
                           .aws_sigv4 = "aws:amz:us-east-1:s3",
                           .userpwd = "AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"});
  EXPECT_EQ(head.status, 404);
  EXPECT_EQ(head.header("Content-Length"), "0");
  EXPECT_THAT(signed_get(s3_.object_url("nobucket", "x")).body,
              HasSubstr("<Code>NoSuchBucket</Code>"));

  const auto url = s3_.object_url("models", "dir/a b ü.bin");
  const auto etag = s3_.etag_of("models", "dir/a b ü.bin");
  const auto changed = signed_get(url, {"If-Match: \"0123\"", "Range: bytes=0-9"});
  EXPECT_EQ(changed.status, 412);
  EXPECT_THAT(changed.body, HasSubstr("<Code>PreconditionFailed</Code>"));
  EXPECT_EQ(signed_get(url, {"If-Match: " + etag, "Range: bytes=0-9"}).status, 206);
  EXPECT_EQ(signed_get(url, {"If-None-Match: " + etag}).status, 304);
}

TEST_F(FakeS3Test, ListObjectsV2PagesWithContinuationTokens) {
  s3_.set_list_page_size(2);
  for (const char* key : {"dir/b.bin", "dir/c.bin", "dir/sub/d.bin", "other.bin"}) {
    s3_.put_object("models", key, "x");
  }
  std::vector<std::string> keys;
  std::string token;
  std::string first_page;
  for (int page = 0; page < 10; ++page) {
    // curl 7.88 signs the query as written: parameters sorted, values encoded.
    std::string query = token.empty() ? "" : "continuation-token=" + escape(token) + "&";
    query += "list-type=2&prefix=dir%2F";
    const auto reply = signed_get(s3_.endpoint() + "/models?" + query);
    ASSERT_EQ(reply.status, 200) << reply.body;
    if (page == 0) {
      first_page = reply.body;
    }
    for (auto at = reply.body.find("<Key>"); at != std::string::npos;
         at = reply.body.find("<Key>", at + 1)) {
      keys.push_back(reply.body.substr(at + 5, reply.body.find("</Key>", at) - at - 5));
    }
    const auto next = reply.body.find("<NextContinuationToken>");
    if (next == std::string::npos) {
      EXPECT_THAT(reply.body, HasSubstr("<IsTruncated>false</IsTruncated>"));
      break;
    }
    token = reply.body.substr(next + 23, reply.body.find("</NextContinuationToken>") - next - 23);
  }
  EXPECT_EQ(keys,
            (std::vector<std::string>{"dir/a b ü.bin", "dir/b.bin", "dir/c.bin", "dir/sub/d.bin"}));
  EXPECT_THAT(first_page,
              StartsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult "
                         "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>"
                         "models</Name><Prefix>dir/</Prefix><NextContinuationToken>"));
  EXPECT_THAT(first_page, HasSubstr("<KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>"
                                    "true</IsTruncated><Contents><Key>dir/a b ü.bin</Key>"
                                    "<LastModified>"));
  EXPECT_THAT(first_page, HasSubstr("<ETag>&quot;"));
  EXPECT_THAT(first_page, HasSubstr("<Size>2000</Size><StorageClass>STANDARD</StorageClass>"));
  // The token holds '+' and '/' like S3's: sent unencoded, curl signs other
  // bytes than the canonical query S3 signs, and the request is refused.
  EXPECT_NE(token.find_first_of("+/"), std::string::npos) << token;
  const auto raw = signed_get(s3_.endpoint() + "/models?continuation-token=" + token +
                              "&list-type=2&prefix=dir%2F");
  EXPECT_EQ(raw.status, 403) << token;
  EXPECT_THAT(raw.body, HasSubstr("<Code>SignatureDoesNotMatch</Code>"));

  s3_.set_list_page_size(1000);
  const auto grouped =
      signed_get(s3_.endpoint() + "/models?delimiter=%2F&list-type=2&prefix=dir%2F");
  EXPECT_THAT(grouped.body,
              HasSubstr("<CommonPrefixes><Prefix>dir/sub/</Prefix></CommonPrefixes>"));
}

}  // namespace
}  // namespace haul::testing
