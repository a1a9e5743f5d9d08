// Self-test of the programmable test HTTP server, driven by real libcurl
// requests (libcurl is also the client the engine uses against it).
#include "support/test_http_server.hpp"

#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace haul::testing {
namespace {

using ::testing::MatchesRegex;
using Clock = std::chrono::steady_clock;

// curl_global_init is not thread-safe; do it before any test starts threads.
class CurlEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { ASSERT_EQ(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK); }
  void TearDown() override { curl_global_cleanup(); }
};
[[maybe_unused]] const auto* const curl_environment =
    ::testing::AddGlobalTestEnvironment(new CurlEnvironment);

std::string pattern(std::size_t size) {
  std::string body(size, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    body[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  }
  return body;
}

struct Options {
  std::string range{};                 // CURLOPT_RANGE, e.g. "2-5"
  std::vector<std::string> headers{};  // extra request headers
  bool head = false;
  bool follow = false;
  // Abort after 1 s below 1000 bytes/s. curl averages speed over a window of
  // several seconds, so a limit of 1 byte/s would take ~6 s to notice a stall
  // that follows a burst.
  bool low_speed_timeout = false;
  std::string proxy{};
  std::optional<std::string> post{};  // POST with this body
};

struct Reply {
  CURLcode code = CURLE_OK;
  long status = 0;
  long connects = 0;
  std::string body{};
  std::vector<std::string> header_lines{};  // of the last response only
  std::chrono::duration<double> elapsed{};

  // Value of the last header `name` (case-insensitive), nullopt when absent.
  std::optional<std::string> header(std::string_view name) const {
    std::optional<std::string> value;
    for (const auto& line : header_lines) {
      const auto colon = line.find(':');
      if (colon != name.size() ||
          !std::equal(name.begin(), name.end(), line.begin(), [](unsigned char a, unsigned char b) {
            return std::tolower(a) == std::tolower(b);
          })) {
        continue;
      }
      auto text = line.substr(colon + 1);
      text.erase(0, text.find_first_not_of(' '));
      text.erase(text.find_last_not_of("\r\n ") + 1);
      value = text;
    }
    return value;
  }
};

// One easy handle; reusing it reuses connections like the engine does.
class Client {
 public:
  Client() : easy_(curl_easy_init()) {}
  ~Client() { curl_easy_cleanup(easy_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Reply fetch(const std::string& url, const Options& options = {}) {
    Reply reply;
    curl_easy_reset(easy_);  // keeps the connection cache
    curl_easy_setopt(easy_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &Client::on_body);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &Client::on_header);
    curl_easy_setopt(easy_, CURLOPT_HEADERDATA, &reply);
    curl_easy_setopt(easy_, CURLOPT_TIMEOUT, 15L);
    curl_easy_setopt(easy_, CURLOPT_NOPROXY, "");
    apply(options);
    curl_slist* headers = nullptr;
    for (const auto& header : options.headers) {
      headers = curl_slist_append(headers, header.c_str());
    }
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers);
    const auto start = Clock::now();
    reply.code = curl_easy_perform(easy_);
    reply.elapsed = Clock::now() - start;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &reply.status);
    curl_easy_getinfo(easy_, CURLINFO_NUM_CONNECTS, &reply.connects);
    curl_slist_free_all(headers);
    return reply;
  }

 private:
  void apply(const Options& options) {
    if (!options.range.empty()) {
      curl_easy_setopt(easy_, CURLOPT_RANGE, options.range.c_str());
    }
    curl_easy_setopt(easy_, CURLOPT_NOBODY, options.head ? 1L : 0L);
    curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, options.follow ? 1L : 0L);
    if (options.low_speed_timeout) {
      curl_easy_setopt(easy_, CURLOPT_LOW_SPEED_LIMIT, 1000L);
      curl_easy_setopt(easy_, CURLOPT_LOW_SPEED_TIME, 1L);
    }
    if (!options.proxy.empty()) {
      curl_easy_setopt(easy_, CURLOPT_PROXY, options.proxy.c_str());
    }
    if (options.post) {
      curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE, static_cast<long>(options.post->size()));
      curl_easy_setopt(easy_, CURLOPT_COPYPOSTFIELDS, options.post->c_str());
    }
  }

  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    static_cast<Reply*>(user)->body.append(data, size * count);
    return size * count;
  }

  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto& lines = static_cast<Reply*>(user)->header_lines;
    std::string line(data, size * count);
    if (line.starts_with("HTTP/")) {
      lines.clear();  // a new response (after a redirect or 100 Continue)
    }
    lines.push_back(std::move(line));
    return size * count;
  }

  CURL* easy_;
};

Reply fetch(const std::string& url, const Options& options = {}) {
  Client client;
  return client.fetch(url, options);
}

class TestHttpServerTest : public ::testing::Test {
 protected:
  TestHttpServer server_;
  const std::string body_ = pattern(1000);
};

TEST_F(TestHttpServerTest, FullGetSendsBodyAndValidators) {
  server_.add("/f.bin", {.body = body_, .last_modified = "Wed, 21 Oct 2015 07:28:00 GMT"});
  const auto reply = fetch(server_.url("/f.bin"));
  ASSERT_EQ(reply.code, CURLE_OK);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, body_);
  EXPECT_EQ(reply.header("Content-Length"), "1000");
  EXPECT_EQ(reply.header("Accept-Ranges"), "bytes");
  EXPECT_EQ(reply.header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(reply.header("Last-Modified"), "Wed, 21 Oct 2015 07:28:00 GMT");
  EXPECT_THAT(reply.header("ETag").value_or(""), MatchesRegex("\"[0-9a-f]+\""));
  EXPECT_THAT(reply.header("Date").value_or(""), MatchesRegex("..., .. ... .... ..:..:.. GMT"));
}

TEST_F(TestHttpServerTest, EtagCanBeVerbatimOrAbsentAndDispositionIsSent) {
  server_.add("/a", {.body = "x", .etag = "W/\"weak\"", .content_disposition = "attachment"});
  server_.add("/b", {.body = "x", .etag = ""});
  const auto a = fetch(server_.url("/a"));
  EXPECT_EQ(a.header("ETag"), "W/\"weak\"");
  EXPECT_EQ(a.header("Content-Disposition"), "attachment");
  EXPECT_EQ(fetch(server_.url("/b")).header("ETag"), std::nullopt);
}

TEST_F(TestHttpServerTest, UnknownPathIs404) {
  const auto reply = fetch(server_.url("/missing"));
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.body, "Not Found\n");
}

TEST_F(TestHttpServerTest, ServesAllThreeRangeForms) {
  server_.add("/f", {.body = body_});
  struct Case {
    std::string range, content_range;
    std::size_t first, size;
  };
  for (const auto& c :
       {Case{"100-199", "bytes 100-199/1000", 100, 100},
        Case{"990-", "bytes 990-999/1000", 990, 10}, Case{"-5", "bytes 995-999/1000", 995, 5},
        Case{"900-5000", "bytes 900-999/1000", 900, 100}}) {
    const auto reply = fetch(server_.url("/f"), {.range = c.range});
    EXPECT_EQ(reply.status, 206) << c.range;
    EXPECT_EQ(reply.header("Content-Range"), c.content_range);
    EXPECT_EQ(reply.header("Content-Length"), std::to_string(c.size));
    EXPECT_EQ(reply.body, body_.substr(c.first, c.size));
  }
}

TEST_F(TestHttpServerTest, UnsatisfiableRangeIs416) {
  server_.add("/f", {.body = body_});
  const auto reply = fetch(server_.url("/f"), {.range = "1000-"});
  EXPECT_EQ(reply.status, 416);
  EXPECT_EQ(reply.header("Content-Range"), "bytes */1000");
  EXPECT_TRUE(reply.body.empty());
}

TEST_F(TestHttpServerTest, MultiRangeGetsFullBody) {
  server_.add("/f", {.body = body_});
  const auto reply = fetch(server_.url("/f"), {.range = "0-1,5-9"});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, body_);
}

TEST_F(TestHttpServerTest, IfRangeMatchGivesRangeAndMismatchGivesFullBody) {
  const std::string date = "Wed, 21 Oct 2015 07:28:00 GMT";
  server_.add("/f", {.body = body_, .last_modified = date});
  const auto etag = fetch(server_.url("/f")).header("ETag").value();
  const auto ranged = [&](const std::string& if_range) {
    return fetch(server_.url("/f"), {.range = "10-19", .headers = {"If-Range: " + if_range}});
  };
  EXPECT_EQ(ranged(etag).status, 206);
  EXPECT_EQ(ranged(date).status, 206);
  const auto stale = ranged("\"stale\"");
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(stale.body, body_);
  EXPECT_EQ(ranged("Thu, 01 Jan 2015 00:00:00 GMT").status, 200);
  EXPECT_EQ(ranged("W/" + etag).status, 200);  // weak validators never match
}

TEST_F(TestHttpServerTest, IfRangeIgnoredWhenNotHonoured) {
  server_.add("/f", {.body = body_, .honour_if_range = false});
  const auto reply = fetch(server_.url("/f"), {.range = "10-19", .headers = {"If-Range: \"x\""}});
  EXPECT_EQ(reply.status, 206);
  EXPECT_EQ(reply.body, body_.substr(10, 10));
}

TEST_F(TestHttpServerTest, RangesDisabledIgnoresRange) {
  server_.add("/f", {.body = body_, .ranges = false});
  const auto reply = fetch(server_.url("/f"), {.range = "10-19"});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, body_);
  EXPECT_EQ(reply.header("Accept-Ranges"), std::nullopt);
}

TEST_F(TestHttpServerTest, ChunkedHasNoLengthAndIgnoresRange) {
  const auto big = pattern(200'000);
  server_.add("/f", {.body = big, .chunked = true});
  const auto reply = fetch(server_.url("/f"), {.range = "10-19"});
  ASSERT_EQ(reply.code, CURLE_OK);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, big);
  EXPECT_EQ(reply.header("Transfer-Encoding"), "chunked");
  EXPECT_EQ(reply.header("Content-Length"), std::nullopt);
  EXPECT_EQ(reply.header("Accept-Ranges"), std::nullopt);
}

TEST_F(TestHttpServerTest, ResetAfterAbortsWithExactlyThatManyBytesThenRecovers) {
  const auto big = pattern(1 << 20);
  server_.add("/f", {.body = big, .reset_after = 300'000, .reset_times = 1});
  const auto broken = fetch(server_.url("/f"));
  EXPECT_EQ(broken.code, CURLE_RECV_ERROR);
  EXPECT_EQ(broken.body, big.substr(0, 300'000));
  const auto whole = fetch(server_.url("/f"));
  EXPECT_EQ(whole.code, CURLE_OK);
  EXPECT_EQ(whole.body, big);
}

TEST_F(TestHttpServerTest, TruncateAfterEndsCleanlyButShort) {
  server_.add("/f", {.body = body_, .truncate_after = 400, .truncate_times = 1});
  const auto short_reply = fetch(server_.url("/f"));
  EXPECT_EQ(short_reply.code, CURLE_PARTIAL_FILE);
  EXPECT_EQ(short_reply.header("Content-Length"), "1000");
  EXPECT_EQ(short_reply.body, body_.substr(0, 400));
  EXPECT_EQ(fetch(server_.url("/f")).body, body_);
}

TEST_F(TestHttpServerTest, BodyFaultSkipsResponsesTooShortToReachIt) {
  server_.add("/f", {.body = body_, .truncate_after = 500, .truncate_times = 1});
  EXPECT_EQ(fetch(server_.url("/f"), {.head = true}).code, CURLE_OK);
  EXPECT_EQ(fetch(server_.url("/f"), {.range = "0-99"}).code, CURLE_OK);
  EXPECT_EQ(fetch(server_.url("/f")).code, CURLE_PARTIAL_FILE);  // the fault is still unused
}

TEST_F(TestHttpServerTest, FailStatusWithRetryAfterThenSuccess) {
  server_.add("/f", {.body = body_,
                     .fail_status = 503,
                     .fail_times = 2,
                     .retry_after = "7",
                     .fail_body = "busy"});
  for (int i = 0; i < 2; ++i) {
    const auto reply = fetch(server_.url("/f"));
    EXPECT_EQ(reply.status, 503);
    EXPECT_EQ(reply.header("Retry-After"), "7");
    EXPECT_EQ(reply.header("Content-Type"), "text/plain");
    EXPECT_EQ(reply.body, "busy");
  }
  const auto reply = fetch(server_.url("/f"));
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, body_);
}

TEST_F(TestHttpServerTest, FailTimesMinusOneFailsForever) {
  server_.add("/f", {.body = body_, .fail_status = 403, .fail_times = -1});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(fetch(server_.url("/f")).status, 403);
  }
}

TEST_F(TestHttpServerTest, StallKeepsSocketOpenUntilClientGivesUp) {
  server_.add("/f", {.body = body_, .stall_times = 1, .stall_after = 300});
  const auto stalled = fetch(server_.url("/f"), {.low_speed_timeout = true});
  EXPECT_EQ(stalled.code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_EQ(stalled.body, body_.substr(0, 300));
  EXPECT_LT(stalled.elapsed, std::chrono::seconds(3));
  EXPECT_EQ(fetch(server_.url("/f")).body, body_);
}

TEST_F(TestHttpServerTest, ChangeAfterRequestsSwitchesBodyAndEtag) {
  const auto next = pattern(1500).substr(500);
  server_.add("/f", {.body = body_,
                     .last_modified = "Wed, 21 Oct 2015 07:28:00 GMT",
                     .change_after_requests = 1,
                     .next_body = next,
                     .next_last_modified = "Thu, 22 Oct 2015 07:28:00 GMT"});
  const auto first = fetch(server_.url("/f"));
  const auto second = fetch(server_.url("/f"));
  EXPECT_EQ(first.body, body_);
  EXPECT_EQ(second.body, next);
  EXPECT_NE(first.header("ETag"), second.header("ETag"));
  EXPECT_EQ(second.header("Last-Modified"), "Thu, 22 Oct 2015 07:28:00 GMT");
  const auto resumed =
      fetch(server_.url("/f"), {.range = "10-", .headers = {"If-Range: " + *first.header("ETag")}});
  EXPECT_EQ(resumed.status, 200);
  EXPECT_EQ(resumed.body, next);
}

TEST_F(TestHttpServerTest, RedirectIsSentAndFollowed) {
  server_.add("/new", {.body = body_});
  server_.add_redirect("/old", {.location = "/new", .status = 301});
  const auto raw = fetch(server_.url("/old"));
  EXPECT_EQ(raw.status, 301);
  EXPECT_EQ(raw.header("Location"), "/new");
  const auto followed = fetch(server_.url("/old"), {.follow = true});
  EXPECT_EQ(followed.status, 200);
  EXPECT_EQ(followed.body, body_);
}

TEST_F(TestHttpServerTest, SignedUrlRedirectsToCdnHostAndExpires) {
  server_.add_signed("/models/w.bin", {.body = body_}, 2);
  const auto redirect = fetch(server_.url("/models/w.bin"));
  EXPECT_EQ(redirect.status, 302);
  const auto cdn_url = redirect.header("Location").value_or("");
  EXPECT_THAT(cdn_url, MatchesRegex("http://127\\.0\\.0\\.2:" + std::to_string(server_.port()) +
                                    "/cdn/[0-9]+/w\\.bin\\?X-Amz-Signature=[0-9a-f]+"));
  EXPECT_EQ(fetch(cdn_url, {.range = "0-99"}).body, body_.substr(0, 100));
  EXPECT_EQ(fetch(cdn_url).body, body_);
  const auto expired = fetch(cdn_url);
  EXPECT_EQ(expired.status, 403);
  EXPECT_EQ(expired.body, "Request has expired");

  const auto again = fetch(server_.url("/models/w.bin"), {.follow = true});
  EXPECT_EQ(again.body, body_);  // a fresh token
  EXPECT_EQ(server_.requests().back().local_address, "127.0.0.2");
  EXPECT_EQ(server_.bytes_sent("/models/w.bin"), 100 + 1000 + 19 + 1000);
}

TEST_F(TestHttpServerTest, SignedUrlRejectsWrongSignature) {
  server_.add_signed("/w.bin", {.body = body_}, 5);
  auto cdn_url = fetch(server_.url("/w.bin")).header("Location").value();
  cdn_url.back() = cdn_url.back() == '0' ? '1' : '0';
  EXPECT_EQ(fetch(cdn_url).status, 403);
}

TEST_F(TestHttpServerTest, RequestLogRecordsWhatArrived) {
  server_.add("/f", {.body = body_});
  fetch(server_.url("/f") + "?a=1&b=2", {.headers = {"Authorization: Bearer secret"}});
  fetch(server_.url("/f", "127.0.0.2"), {.range = "0-9"});
  const auto records = server_.requests_for("/f");
  ASSERT_EQ(records.size(), 2u);
  const auto port = std::to_string(server_.port());
  EXPECT_EQ(records[0].method, "GET");
  EXPECT_EQ(records[0].query, "a=1&b=2");
  EXPECT_EQ(records[0].host_header, "127.0.0.1:" + port);
  EXPECT_EQ(records[0].local_address, "127.0.0.1");
  EXPECT_EQ(records[0].headers.at("authorization"), "Bearer secret");
  EXPECT_EQ(records[0].status, 200);
  EXPECT_EQ(records[0].body_bytes, 1000u);
  EXPECT_FALSE(records[0].absolute_form);
  EXPECT_EQ(records[1].host_header, "127.0.0.2:" + port);
  EXPECT_EQ(records[1].local_address, "127.0.0.2");
  EXPECT_EQ(records[1].headers.at("range"), "bytes=0-9");
  EXPECT_EQ(records[1].status, 206);
  EXPECT_EQ(records[1].body_bytes, 10u);
}

// `ended` is what tests wait on to know a transfer is over on the server's side.
TEST_F(TestHttpServerTest, RequestLogSaysWhenAResponseEnded) {
  const auto ended = [&](const std::string& path) {
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
      const auto records = server_.requests_for(path);
      if (records.size() == 1 && records[0].ended) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  server_.add("/done", {.body = body_});
  fetch(server_.url("/done"));
  EXPECT_TRUE(ended("/done")) << "sent in full";

  server_.add("/slow", {.body = pattern(100'000), .rate = 500});
  Reply reply;
  std::thread client([&] { reply = fetch(server_.url("/slow"), {.low_speed_timeout = true}); });
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline && (server_.requests_for("/slow").empty() ||
                                     server_.requests_for("/slow")[0].body_bytes == 0)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(server_.requests_for("/slow").empty());
  EXPECT_FALSE(server_.requests_for("/slow")[0].ended) << "still trickling";
  client.join();  // curl gives up on the slow body after a second
  EXPECT_EQ(reply.code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_TRUE(ended("/slow")) << "the client went away";
  EXPECT_LT(server_.bytes_sent("/slow"), 100'000u);
}

TEST_F(TestHttpServerTest, ProxyRequestsUseAbsoluteForm) {
  server_.add("/x", {.body = body_});
  const auto reply = fetch("http://models.example/x?y=1", {.proxy = server_.url("/")});
  EXPECT_EQ(reply.body, body_);
  const auto records = server_.requests();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_TRUE(records[0].absolute_form);
  EXPECT_EQ(records[0].path, "/x");
  EXPECT_EQ(records[0].query, "y=1");
  EXPECT_EQ(records[0].host_header, "models.example");
}

TEST_F(TestHttpServerTest, BytesSentCountsBodiesAndClearLogForgetsThem) {
  server_.add("/f", {.body = body_, .fail_status = 500, .fail_times = 1});
  fetch(server_.url("/f"));  // uses up the failure
  server_.clear_log();
  EXPECT_TRUE(server_.requests().empty());
  EXPECT_EQ(server_.bytes_sent("/f"), 0u);
  fetch(server_.url("/f"), {.range = "0-99"});
  fetch(server_.url("/f"));
  fetch(server_.url("/f"), {.head = true});
  EXPECT_EQ(server_.bytes_sent("/f"), 1100u);
  EXPECT_EQ(server_.requests().size(), 3u);
  EXPECT_EQ(server_.requests()[1].status, 200);  // fault counter survived clear_log
}

TEST_F(TestHttpServerTest, TrickleRateIsRespected) {
  const auto big = pattern(200'000);
  server_.add("/f", {.body = big, .rate = 100'000});
  const auto reply = fetch(server_.url("/f"));
  EXPECT_EQ(reply.body, big);
  EXPECT_GE(reply.elapsed, std::chrono::milliseconds(1500));
  EXPECT_LT(reply.elapsed, std::chrono::seconds(4));
}

TEST_F(TestHttpServerTest, LargeBodyAtFullSpeed) {
  const auto big = pattern(32 << 20);
  server_.add("/f", {.body = big});
  const auto reply = fetch(server_.url("/f"));
  EXPECT_EQ(reply.code, CURLE_OK);
  EXPECT_TRUE(reply.body == big);
  EXPECT_LT(reply.elapsed, std::chrono::seconds(3));
}

TEST_F(TestHttpServerTest, HeadSendsHeadersOnly) {
  server_.add("/f", {.body = body_});
  const auto reply = fetch(server_.url("/f"), {.head = true});
  EXPECT_EQ(reply.code, CURLE_OK);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("Content-Length"), "1000");
  EXPECT_TRUE(reply.body.empty());
  const auto record = server_.requests().at(0);
  EXPECT_EQ(record.method, "HEAD");
  EXPECT_EQ(record.body_bytes, 0u);
}

TEST_F(TestHttpServerTest, KeepAliveReusesTheConnectionUntilClose) {
  server_.add("/f", {.body = body_});
  Client client;
  EXPECT_EQ(client.fetch(server_.url("/f")).connects, 1);
  EXPECT_EQ(client.fetch(server_.url("/f"), {.range = "0-9"}).connects, 0);
  const auto closing = client.fetch(server_.url("/f"), {.headers = {"Connection: close"}});
  EXPECT_EQ(closing.connects, 0);
  EXPECT_EQ(closing.header("Connection"), "close");
  EXPECT_EQ(client.fetch(server_.url("/f")).connects, 1);
}

TEST_F(TestHttpServerTest, HandlerGetsRequestBodyAndShapesResponse) {
  server_.add_handler("/api", [](const TestHttpServer::Request& request) {
    return TestHttpServer::Response{
        201, {{"X-Method", request.method}, {"Content-Type", "text/plain"}}, request.body + "!"};
  });
  const auto reply = fetch(server_.url("/api"), {.post = std::string("hello")});
  EXPECT_EQ(reply.status, 201);
  EXPECT_EQ(reply.header("X-Method"), "POST");
  EXPECT_EQ(reply.body, "hello!");
  EXPECT_EQ(server_.requests().at(0).headers.at("content-length"), "5");
}

TEST_F(TestHttpServerTest, LargePostWithExpectContinueReachesHandler) {
  server_.add_handler("/api", [](const TestHttpServer::Request& request) {
    return TestHttpServer::Response{200, {}, std::to_string(request.body.size())};
  });
  const auto reply =
      fetch(server_.url("/api"), {.headers = {"Expect: 100-continue"}, .post = pattern(100'000)});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "100000");
}

TEST_F(TestHttpServerTest, HandlerExceptionBecomes500) {
  server_.add_handler("/api", [](const TestHttpServer::Request&) -> TestHttpServer::Response {
    throw std::runtime_error("boom");
  });
  const auto reply = fetch(server_.url("/api"));
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(reply.body, "boom");
}

TEST(TestHttpServerLifetime, DestructorEndsStalledAndTricklingResponsesQuickly) {
  auto server = std::make_unique<TestHttpServer>();
  server->add("/stall", {.body = pattern(1000), .stall_times = -1, .stall_after = 100});
  server->add("/slow", {.body = pattern(1'000'000), .rate = 1000});
  std::vector<Reply> replies(2);
  std::thread stalled([&] { replies[0] = fetch(server->url("/stall")); });
  std::thread trickling([&] { replies[1] = fetch(server->url("/slow")); });
  const auto both_started = [&] {
    const auto records = server->requests();
    return records.size() == 2 && std::all_of(records.begin(), records.end(),
                                              [](const auto& r) { return r.body_bytes > 0; });
  };
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (!both_started() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(both_started());
  const auto start = Clock::now();
  server.reset();
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(500));
  stalled.join();
  trickling.join();
  EXPECT_EQ(replies[0].code, CURLE_PARTIAL_FILE);
  EXPECT_EQ(replies[0].body.size(), 100u);
  EXPECT_NE(replies[1].code, CURLE_OK);
}

TEST(TestHttpServerLifetime, UrlFormatsHostAndPort) {
  TestHttpServer server;
  const auto port = std::to_string(server.port());
  EXPECT_GT(server.port(), 0);
  EXPECT_EQ(server.url("/a/b"), "http://127.0.0.1:" + port + "/a/b");
  EXPECT_EQ(server.url("x", "localhost"), "http://localhost:" + port + "/x");
}

}  // namespace
}  // namespace haul::testing
