// `haul get` on S3 sources, against the fake S3 that verifies every SigV4
// signature: single keys (spaces and UTF-8 included), prefixes over
// paginated listings, session tokens, and the errors of bad credentials.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <mutex>

#include "harness.hpp"
#include "support/fake_s3.hpp"
#include "support/test_http_server.hpp"

namespace haul::testing {
namespace {

namespace fs = std::filesystem;

// The Authorization header libcurl's CURLOPT_AWS_SIGV4 computes for a GET of
// `url`, set up the way haul sets it up. The host in `url` is sent to
// `server` (CURLOPT_CONNECT_TO), so AWS's example hosts sign as themselves.
std::string curl_signature(TestHttpServer& server, const std::string& host, const std::string& url,
                           const std::string& provider, const std::string& credentials,
                           const std::vector<std::string>& headers) {
  std::mutex mutex;
  std::string authorization;
  server.add_handler("/test.txt", [&](const TestHttpServer::Request& request) {
    std::lock_guard lock(mutex);
    authorization = request.headers.at("authorization");
    return TestHttpServer::Response{};
  });
  server.add_handler("/", [&](const TestHttpServer::Request& request) {
    std::lock_guard lock(mutex);
    authorization = request.headers.at("authorization");
    return TestHttpServer::Response{};
  });
  CURL* easy = curl_easy_init();
  curl_slist* list = nullptr;
  for (const std::string& header : headers) list = curl_slist_append(list, header.c_str());
  curl_slist* connect_to =
      curl_slist_append(nullptr, (host + ":80:127.0.0.1:" + std::to_string(server.port())).c_str());
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_CONNECT_TO, connect_to);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(easy, CURLOPT_AWS_SIGV4, provider.c_str());
  curl_easy_setopt(easy, CURLOPT_USERPWD, credentials.c_str());
  const CURLcode code = curl_easy_perform(easy);
  curl_slist_free_all(list);
  curl_slist_free_all(connect_to);
  curl_easy_cleanup(easy);
  EXPECT_EQ(code, CURLE_OK) << curl_easy_strerror(code);
  std::lock_guard lock(mutex);
  const auto at = authorization.find("Signature=");
  return at == std::string::npos ? authorization : authorization.substr(at + 10);
}

// What haul relies on: libcurl 7.88 signs like AWS's published examples when
// given what its version lacks (x-amz-content-sha256; a pinned date here
// stands in for the clock).
TEST(CurlSigV4, MatchesTheS3DocumentationGetObjectExample) {
  TestHttpServer server;
  const std::string signature = curl_signature(
      server, "examplebucket.s3.amazonaws.com", "http://examplebucket.s3.amazonaws.com/test.txt",
      "aws:amz:us-east-1:s3", "AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      {"Range: bytes=0-9",
       "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "x-amz-date: 20130524T000000Z"});
  EXPECT_EQ(signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(CurlSigV4, MatchesTheSigV4TestSuite) {
  TestHttpServer server;
  const std::string credentials = "AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  EXPECT_EQ(
      curl_signature(server, "example.amazonaws.com", "http://example.amazonaws.com/",
                     "aws:amz:us-east-1:service", credentials, {"x-amz-date: 20150830T123600Z"}),
      "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
      << "get-vanilla";
  EXPECT_EQ(curl_signature(server, "example.amazonaws.com", "http://example.amazonaws.com/",
                           "aws:amz:us-east-1:service", credentials,
                           {"x-amz-date: 20150830T123600Z",
                            "X-Amz-Security-Token: "
                            "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"}),
            "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8")
      << "get-vanilla-with-session-token";
}

class S3GetTest : public ::testing::Test {
 protected:
  S3GetTest() : s3(server) {}

  std::vector<std::string> env(const std::string& secret = kSecret) const {
    return {"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
            "AWS_SECRET_ACCESS_KEY=" + secret,
            "AWS_REGION=us-east-1",
            "AWS_ENDPOINT_URL=" + s3.endpoint(),
            "AWS_SESSION_TOKEN=",
            "AWS_PROFILE="};
  }

  static constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  TestHttpServer server;
  FakeS3 s3;
  TempDir dir;
};

TEST_F(S3GetTest, ASignedObjectWithAnAwkwardKeyArrivesIntact) {
  const std::string body = random_bytes(3u << 20, 21);
  s3.put_object("models", "checkpoints/My Model (v2) ü.safetensors", body);
  const auto out = dir / "out";
  const auto outcome = run_haul(
      {"get", "s3://models/checkpoints/My Model (v2) ü.safetensors", "-d", out.string()}, env());
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(read_file(out / "My Model (v2) ü.safetensors"), body);
  EXPECT_EQ(s3.signature_failures(), 0);
  int ranged = 0;
  for (const auto& record : server.requests()) {
    EXPECT_EQ(record.headers.count("authorization"), 1u) << record.path;
    // The resolver's one-byte probe learns the ETag; the engine's ranged
    // GETs then insist on it.
    if (record.method == "GET" && record.headers.count("range") &&
        record.headers.at("range") != "bytes=0-0") {
      ++ranged;
      EXPECT_EQ(record.headers.at("if-match"),
                s3.etag_of("models", "checkpoints/My Model (v2) ü.safetensors"));
    }
  }
  EXPECT_GT(ranged, 0);
  EXPECT_FALSE(contains(outcome.err + outcome.out, kSecret));
}

TEST_F(S3GetTest, APrefixListsEveryPageAndKeepsTheFolders) {
  s3.set_list_page_size(2);
  std::map<std::string, std::string> objects;
  for (int i = 0; i < 5; ++i) {
    const std::string key = "loras/set/" + std::string(i % 2 ? "sub/" : "") + "lora" +
                            std::to_string(i) + ".safetensors";
    objects[key] = random_bytes(200u << 10, 30 + i);
    s3.put_object("models", key, objects[key]);
  }
  s3.put_object("models", "other/skip.bin", "not under the prefix");
  const auto out = dir / "out";
  const auto outcome = run_haul({"get", "s3://models/loras/set/", "-d", out.string()}, env());
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  for (const auto& [key, content] : objects)
    EXPECT_EQ(read_file(out / key.substr(std::string("loras/set/").size())), content) << key;
  EXPECT_FALSE(fs::exists(out / "skip.bin"));
  EXPECT_EQ(s3.signature_failures(), 0);
}

TEST_F(S3GetTest, TemporaryCredentialsSendTheirSessionToken) {
  s3.put_object("models", "a.bin", "abc");
  s3.set_session_token("FwoGZXIvYXdzEXAMPLETOKEN");
  auto vars = env();
  vars[4] = "AWS_SESSION_TOKEN=FwoGZXIvYXdzEXAMPLETOKEN";
  const auto out = dir / "out";
  const auto outcome = run_haul({"get", "s3://models/a.bin", "-d", out.string()}, vars);
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err << outcome.out;
  EXPECT_EQ(read_file(out / "a.bin"), "abc");

  s3.expire_credentials(true);
  const auto expired = run_haul({"get", "s3://models/a.bin", "-d", (dir / "x").string()}, vars);
  EXPECT_EQ(expired.exit_code, 1);
  EXPECT_TRUE(contains(expired.err, "expired")) << expired.err;
}

TEST_F(S3GetTest, BadCredentialsAndMissingKeysSayWhatIsWrong) {
  s3.put_object("models", "a.bin", "abc");
  struct Case {
    std::string source;
    std::vector<std::string> env;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"s3://models/a.bin", env("wrong-secret"), "SignatureDoesNotMatch"},
      {"s3://models/missing.bin", env(), "NoSuchKey"},
      {"s3://no-such-bucket/a.bin", env(), "NoSuchBucket"},
      {"s3://models/nothing-here/", env(), "no object"},
  };
  for (const Case& c : cases) {
    const auto outcome = run_haul({"get", c.source, "-d", (dir / "x").string()}, c.env);
    EXPECT_EQ(outcome.exit_code, 1) << c.source << "\n" << outcome.err;
    EXPECT_EQ(lines_of(outcome.err).size(), 1u) << outcome.err;
    EXPECT_TRUE(contains(outcome.err, c.expected)) << c.source << ": " << outcome.err;
    EXPECT_FALSE(contains(outcome.err, "wrong-secret")) << outcome.err;
  }
  const auto bad = run_haul({"get", "s3://Bad_Bucket/a.bin"}, env());
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
}

}  // namespace
}  // namespace haul::testing
