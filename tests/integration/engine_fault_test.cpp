// The engine against a misbehaving server: resets, short bodies, 5xx with
// Retry-After, stalls, permanent errors, redirects across hosts, expiring
// signed URLs, a file that changes mid-download.
#include "engine_fixture.hpp"

namespace haul::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

TEST_F(EngineTest, ResetConnectionsResumeWhereTheyStopped) {
  const std::string body = random_bytes(4u << 20, 11);
  Resource resource = file(body);
  resource.reset_after = 300u << 10;
  resource.reset_times = 3;
  server.add("/flaky.bin", resource);
  auto request = request_for("/flaky.bin");
  request.connections = 2;

  auto result = engine().wait(engine().start(request));

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(dir / "flaky.bin"), body);
  // Retries continue from the last byte received instead of starting over.
  EXPECT_LE(server.bytes_sent("/flaky.bin"), body.size() + (2u << 20));
}

TEST_F(EngineTest, TruncatedBodiesAreCompletedByARetry) {
  const std::string body = random_bytes(2u << 20, 12);
  Resource resource = file(body);
  resource.truncate_after = 500000;
  resource.truncate_times = 2;
  server.add("/short.bin", resource);
  auto request = request_for("/short.bin");
  request.connections = 1;

  auto result = engine().wait(engine().start(request));

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->sha256, sha256_of(body));
  EXPECT_GE(server.requests_for("/short.bin").size(), 3u);
}

TEST_F(EngineTest, ServiceUnavailableHonoursRetryAfter) {
  Resource resource = file("ok after a while");
  resource.fail_status = 503;
  resource.fail_times = 1;
  resource.retry_after = "1";
  server.add("/busy", resource);
  const auto started = std::chrono::steady_clock::now();

  auto result = engine().wait(engine().start(request_for("/busy")));

  ASSERT_TRUE(result) << result.error().message;
  // The policy's own backoff is 50 ms; only Retry-After explains a 1 s wait.
  EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(950));
  EXPECT_EQ(server.requests_for("/busy").size(), 2u);
}

TEST_F(EngineTest, TooManyRequestsAndServerErrorsAreRetried) {
  for (int status : {429, 500, 502, 408}) {
    Resource resource = file("fine");
    resource.fail_status = status;
    resource.fail_times = 2;
    const std::string path = "/status" + std::to_string(status);
    server.add(path, resource);
    auto result = engine().wait(engine().start(request_for(path)));
    ASSERT_TRUE(result) << status << ": " << result.error().message;
    EXPECT_EQ(server.requests_for(path).size(), 3u) << status;
  }
}

TEST_F(EngineTest, RetryAfterBeyondTheLimitFailsWithTheReason) {
  Resource resource = file("x");
  resource.fail_status = 429;
  resource.fail_times = -1;
  resource.retry_after = "3600";
  server.add("/limited", resource);
  auto result = engine().wait(engine().start(request_for("/limited")));
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("429 Too Many Requests"), std::string::npos)
      << result.error().message;
  EXPECT_NE(result.error().message.find("retry in 1h00m"), std::string::npos)
      << result.error().message;
  EXPECT_EQ(server.requests_for("/limited").size(), 1u);
}

TEST_F(EngineTest, PersistentServerErrorGivesUpAfterMaxAttempts) {
  Resource resource = file("never");
  resource.fail_status = 503;
  resource.fail_times = -1;
  server.add("/down", resource);
  auto request = request_for("/down");
  request.retry = fast_retries(3);

  auto result = engine().wait(engine().start(request));

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(result.error().http_status, 503);
  EXPECT_NE(result.error().message.find("503 Service Unavailable"), std::string::npos)
      << result.error().message;
  EXPECT_NE(result.error().message.find("gave up after 3 attempts"), std::string::npos)
      << result.error().message;
  EXPECT_EQ(server.requests_for("/down").size(), 3u);
  EXPECT_FALSE(fs::exists(dir / "down"));
}

TEST_F(EngineTest, NotFoundFailsAtOnceWithStatusAndNoFiles) {
  auto result = engine().wait(engine().start(request_for("/missing.bin")));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(result.error().http_status, 404);
  EXPECT_NE(result.error().message.find("404 Not Found"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST_F(EngineTest, ClientErrorsFailWithoutRetryAndShowAJsonReason) {
  Resource resource = file("x");
  resource.fail_status = 401;
  resource.fail_times = -1;
  resource.fail_body = "{\"error\":\"The creator requires you to be logged in\"}";
  resource.fail_content_type = "application/json";
  server.add("/gated", resource);
  auto result = engine().wait(engine().start(request_for("/gated")));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(result.error().message.find(
                "401 Unauthorized: {\"error\":\"The creator requires you to be logged in\"}"),
            std::string::npos)
      << result.error().message;
  EXPECT_EQ(server.requests_for("/gated").size(), 1u);
}

TEST_F(EngineTest, StalledConnectionIsReplaced) {
  const std::string body = random_bytes(1u << 20, 13);
  Resource resource = file(body);
  resource.stall_times = 1;
  resource.stall_after = 64u << 10;
  server.add("/stall.bin", resource);
  auto request = request_for("/stall.bin");
  request.connections = 1;
  request.retry.stall_timeout = milliseconds(700);

  auto result = engine().wait(engine().start(request));

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(dir / "stall.bin"), body);
  EXPECT_EQ(server.requests_for("/stall.bin").size(), 2u);
}

TEST_F(EngineTest, RunOfFailuresGivesUpAfterTheIdleLimit) {
  Resource resource = file(random_bytes(1u << 20, 18));
  resource.stall_times = -1;
  resource.stall_after = 0;  // headers, then silence, on every attempt
  server.add("/hang.bin", resource);
  auto request = request_for("/hang.bin");
  request.retry = fast_retries(1000);
  request.retry.stall_timeout = milliseconds(300);
  request.retry.give_up_after = milliseconds(1500);
  const auto started = std::chrono::steady_clock::now();

  auto result = engine().wait(engine().start(request));

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(result.error().message.find("stalled"), std::string::npos) << result.error().message;
  EXPECT_NE(result.error().message.find("giving up"), std::string::npos) << result.error().message;
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_GE(elapsed, milliseconds(1400));
  EXPECT_LT(elapsed, milliseconds(4000));
}

TEST_F(EngineTest, UnreachableHostFailsAfterItsAttempts) {
  auto request = request_for("/x");
  request.url = "http://127.0.0.1:1/x";
  request.retry = fast_retries(3);
  const auto started = std::chrono::steady_clock::now();
  auto result = engine().wait(engine().start(request));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(result.error().message.find("127.0.0.1"), std::string::npos) << result.error().message;
  EXPECT_NE(result.error().message.find("gave up after 3 attempts"), std::string::npos)
      << result.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST_F(EngineTest, RedirectToAnotherHostDropsCredentialsAndCustomHeaders) {
  const std::string body = random_bytes(2u << 20, 14);
  Resource blob = file(body);
  blob.rate = 4u << 20;  // slow enough for several connections to join
  server.add("/blob/model.bin", blob);
  server.add_redirect("/resolve/model.bin",
                      Redirect{server.url("/blob/model.bin", "127.0.0.2"), 302});
  auto request = request_for("/resolve/model.bin");
  request.headers = {"Authorization: Bearer hf_secret", "X-Team: research"};
  request.connections = 4;

  auto result = engine().wait(engine().start(request));

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(dir / "model.bin"), body) << "named after the URL the user gave";
  const auto origin = server.requests_for("/resolve/model.bin");
  ASSERT_EQ(origin.size(), 1u) << "the redirect is resolved once and reused";
  EXPECT_EQ(origin[0].headers.at("authorization"), "Bearer hf_secret");
  EXPECT_EQ(origin[0].headers.at("x-team"), "research");
  const auto cdn = server.requests_for("/blob/model.bin");
  ASSERT_GE(cdn.size(), 2u);
  for (const auto& r : cdn) {
    EXPECT_EQ(r.local_address, "127.0.0.2");
    EXPECT_EQ(r.headers.count("authorization"), 0u) << "credentials leaked to " << r.host_header;
    EXPECT_EQ(r.headers.count("x-team"), 0u);
  }
}

TEST_F(EngineTest, RedirectOnTheSameHostKeepsHeaders) {
  server.add("/new/place.bin", file("moved"));
  server.add_redirect("/old/place.bin", Redirect{"/new/place.bin", 301});
  auto request = request_for("/old/place.bin");
  request.headers = {"Authorization: Bearer token"};
  auto result = engine().wait(engine().start(request));
  ASSERT_TRUE(result) << result.error().message;
  const auto target = server.requests_for("/new/place.bin");
  ASSERT_EQ(target.size(), 1u);
  EXPECT_EQ(target[0].headers.at("authorization"), "Bearer token");
}

TEST_F(EngineTest, RedirectLoopFailsClearly) {
  server.add_redirect("/loop", Redirect{"/loop", 302});
  auto result = engine().wait(engine().start(request_for("/loop")));
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("redirects"), std::string::npos) << result.error().message;
}

TEST_F(EngineTest, ExpiredSignedUrlIsResolvedAgain) {
  const std::string body = random_bytes(6u << 20, 15);
  Resource resource = file(body);
  resource.rate = 3u << 20;
  server.add_signed("/resolve/main/big.safetensors", resource, 3);
  auto request = request_for("/resolve/main/big.safetensors");
  request.connections = 6;
  request.sha256 = sha256_of(body);

  auto result = engine().wait(engine().start(request));

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(dir / "big.safetensors"), body);
  EXPECT_GE(server.requests_for("/resolve/main/big.safetensors").size(), 2u)
      << "a 403 from the CDN should send us back to the origin for a fresh URL";
}

TEST_F(EngineTest, FileChangingMidDownloadRestartsFromZeroInsteadOfSplicing) {
  const std::string before = random_bytes(4u << 20, 16);
  const std::string after = random_bytes(4u << 20, 17);
  Resource resource = file(before);
  resource.rate = 4u << 20;
  resource.change_after_requests = 2;
  resource.next_body = after;
  server.add("/moving.bin", resource);
  auto request = request_for("/moving.bin");
  request.connections = 4;

  auto result = engine().wait(engine().start(request));

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->sha256, sha256_of(after));
  EXPECT_EQ(read_file(dir / "moving.bin"), after);
  bool sent_if_range = false;
  for (const auto& r : server.requests_for("/moving.bin"))
    sent_if_range |= r.headers.count("if-range") != 0;
  EXPECT_TRUE(sent_if_range);
}

TEST_F(EngineTest, ProxyFromTheEnvironmentIsUsed) {
  server.add("/through-proxy.bin", file("via proxy"));
  auto request = request_for("/through-proxy.bin");
  request.url = "http://models.example/through-proxy.bin";
  ::setenv("http_proxy", server.url("").c_str(), 1);
  auto result = engine().wait(engine().start(request));
  ::unsetenv("http_proxy");
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(dir / "through-proxy.bin"), "via proxy");
  const auto requests = server.requests_for("/through-proxy.bin");
  ASSERT_FALSE(requests.empty());
  EXPECT_TRUE(requests.front().absolute_form);
  EXPECT_EQ(requests.front().host_header, "models.example");
}

}  // namespace
}  // namespace haul::testing
