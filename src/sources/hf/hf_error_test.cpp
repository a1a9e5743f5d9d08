#include <gtest/gtest.h>

#include "sources/hf/hf_response.hpp"

namespace haul::sources::hf {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kWhat = "config.json in org/name@main";
constexpr std::string_view kRepoUrl = "https://huggingface.co/org/name";

// The cases follow the order of huggingface_hub's hf_raise_for_status; header
// values and bodies are the Hub's own (see reference/huggingface.md).

TEST(HfError, RevisionNotFound) {
  const Error e = hf_error(
      404, {{"X-Error-Code", "RevisionNotFound"}, {"X-Error-Message", "Invalid rev id: badrev"}},
      R"({"error":"Invalid rev id: badrev"})", "config.json in org/name@badrev");
  EXPECT_EQ(e.code, ErrorCode::kNotFound);
  EXPECT_EQ(e.http_status, 404);
  EXPECT_EQ(
      e.message,
      "Hugging Face revision not found (config.json in org/name@badrev): no such branch, tag or "
      "commit (Hub: Invalid rev id: badrev)")
      << "the header and the body say the same: once";
}

TEST(HfError, EntryNotFound) {
  const Error e = hf_error(404,
                           {{"X-Error-Code", "EntryNotFound"},
                            {"X-Error-Message", "Entry not found"},
                            {"Content-Type", "text/plain; charset=utf-8"}},
                           "Entry not found", kWhat);
  EXPECT_EQ(e.code, ErrorCode::kNotFound);
  EXPECT_EQ(
      e.message,
      "file not found in the Hugging Face repository: config.json in org/name@main (Hub: Entry "
      "not found)");
}

TEST(HfError, GatedRepoWithoutToken) {
  const std::string hub =
      "Access to model org/name is restricted. You must have access to it and be authenticated to "
      "access it. Please log in.";
  const Error e = hf_error(401, {{"X-Error-Code", "GatedRepo"}, {"X-Error-Message", hub}}, hub,
                           kWhat, kRepoUrl);
  EXPECT_EQ(e.code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(e.http_status, 401);
  EXPECT_EQ(
      e.message,
      "gated Hugging Face repository (config.json in org/name@main): set HF_TOKEN to a token of "
      "an account that accepted the conditions at https://huggingface.co/org/name (Hub: " +
          hub + ")");
}

TEST(HfError, GatedRepoTokenNotApproved) {
  const Error e = hf_error(
      403, {{"X-Error-Code", "GatedRepo"}},
      R"({"error":"Access to model org/name is restricted and you are not in the authorized list. Visit https://huggingface.co/org/name to ask for access."})",
      kWhat, kRepoUrl);
  EXPECT_EQ(e.code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(e.http_status, 403);
  EXPECT_EQ(
      e.message,
      "gated Hugging Face repository (config.json in org/name@main): the account of HF_TOKEN has "
      "not been granted access; request it at https://huggingface.co/org/name and wait for "
      "approval (Hub: Access to model org/name is restricted and you are not in the authorized "
      "list. Visit https://huggingface.co/org/name to ask for access.)");
}

TEST(HfError, GatedRepoWithoutPageUrl) {
  const Error e = hf_error(401, {{"X-Error-Code", "GatedRepo"}}, "", kWhat);
  EXPECT_EQ(
      e.message,
      "gated Hugging Face repository (config.json in org/name@main): set HF_TOKEN to a token of "
      "an account that accepted the conditions on the repository's page");
}

TEST(HfError, DisabledRepository) {
  const Error e = hf_error(403, {{"X-Error-Message", "Access to this resource is disabled."}},
                           R"({"error":"Access to this resource is disabled."})", kWhat);
  EXPECT_EQ(e.code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(
      e.message,
      "Hugging Face repository disabled (config.json in org/name@main): Access to this resource "
      "is disabled.")
      << "the Hub's text is already in the message";
}

TEST(HfError, RepoNotFoundWithToken) {
  const Error e = hf_error(404, {{"X-Error-Code", "RepoNotFound"}}, "", kWhat);
  EXPECT_EQ(e.code, ErrorCode::kNotFound);
  EXPECT_EQ(
      e.message,
      "Hugging Face repository not found (config.json in org/name@main): check ORG/NAME and the "
      "type (datasets/, spaces/); a private repository needs HF_TOKEN with access to it");
}

TEST(HfError, BareUnauthorizedLooksLikeMissing) {
  const Error e = hf_error(
      401,
      {{"X-Error-Message", "Invalid username or password."},
       {"WWW-Authenticate", "Bearer realm=\"Authentication required\", charset=\"UTF-8\""}},
      R"({"error":"Invalid username or password."})", kWhat);
  EXPECT_EQ(e.code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(e.http_status, 401);
  EXPECT_EQ(
      e.message,
      "Hugging Face repository not found or not accessible (config.json in org/name@main): it "
      "does not exist, or it is private or gated and HF_TOKEN is not set or has no access (Hub: "
      "Invalid username or password.)");
}

TEST(HfError, BadToken) {
  const Error e =
      hf_error(401, {{"X-Error-Message", "Invalid credentials in Authorization header"}},
               R"({"error":"Invalid credentials in Authorization header"})", kWhat);
  EXPECT_EQ(e.code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(
      e.message,
      "Hugging Face rejected HF_TOKEN (config.json in org/name@main): the token is invalid or "
      "expired; create a new one or unset HF_TOKEN for public repositories (Hub: Invalid "
      "credentials in Authorization header)");
}

TEST(HfError, BadRequest) {
  const Error e = hf_error(400, {}, R"({"error":["first problem","second problem"]})", kWhat);
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.message,
            "bad request to Hugging Face (config.json in org/name@main) (Hub: first problem; "
            "second problem)");
}

TEST(HfError, ForbiddenWithoutCode) {
  const Error e =
      hf_error(403, {}, R"({"errors":[{"message":"token lacks repo read scope"}]})", kWhat);
  EXPECT_EQ(e.code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(
      e.message,
      "access forbidden by Hugging Face (config.json in org/name@main): make sure HF_TOKEN has "
      "read access to this repository (Hub: token lacks repo read scope)");
}

TEST(HfError, RateLimitedWithUsedUpWindow) {
  const Error e = hf_error(429,
                           {{"RateLimit", "\"resolvers\";r=0;t=87"},
                            {"RateLimit-Policy", "\"fixed window\";\"resolvers\";q=3000;w=300"},
                            {"Retry-After", "5"}},
                           "", kWhat);
  EXPECT_EQ(e.code, ErrorCode::kUnavailable);
  EXPECT_EQ(e.http_status, 429);
  EXPECT_EQ(e.retry_after, 87s) << "the window reset wins over Retry-After";
  EXPECT_EQ(
      e.message,
      "rate limited by Hugging Face (config.json in org/name@main): the 'resolvers' limit of 3000 "
      "requests per 300 s is used up; retry in 87 s");
}

// Found by deep fuzzing (source_parsers): the reset in milliseconds overflowed.
TEST(HfError, AnAbsurdWaitIsCappedAtADay) {
  const Error limited =
      hf_error(429, {{"RateLimit", "\"api\";r=0;t=833333333333333333"}}, "", kWhat);
  EXPECT_EQ(limited.retry_after, 24h);
  EXPECT_NE(limited.message.find("retry in 86400 s"), std::string::npos) << limited.message;
  const Error busy = hf_error(503, {{"Retry-After", "9999999999999999"}}, "", kWhat);
  EXPECT_EQ(busy.retry_after, 24h);
}

TEST(HfError, RateLimitedWithRetryAfter) {
  const Error e =
      hf_error(429, {{"RateLimit", "\"api\";r=3;t=40"}, {"Retry-After", "30"}}, "", kWhat);
  EXPECT_EQ(e.retry_after, 30s) << "RateLimit only counts when nothing remains";
  EXPECT_EQ(e.message,
            "rate limited by Hugging Face (config.json in org/name@main); retry in 30 s");
  const Error bare = hf_error(429, {}, "", kWhat);
  EXPECT_EQ(bare.code, ErrorCode::kUnavailable);
  EXPECT_EQ(bare.retry_after, 0ms);
  EXPECT_EQ(bare.message, "rate limited by Hugging Face (config.json in org/name@main)");
  const Error dated = hf_error(429, {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}}, "", kWhat);
  EXPECT_EQ(dated.retry_after, 0ms) << "huggingface_hub reads delta-seconds only";
}

TEST(HfError, RangeNotSatisfiable) {
  const Error e = hf_error(416, {{"Content-Range", "bytes */1234"}}, "", kWhat);
  EXPECT_EQ(e.code, ErrorCode::kProtocol);
  EXPECT_EQ(
      e.message,
      "416 Range Not Satisfiable from Hugging Face (config.json in org/name@main): the partial "
      "download is longer than the file; start it over");
}

TEST(HfError, ServerErrorsAreTransient) {
  const Error e = hf_error(503, {{"Retry-After", "120"}}, "", kWhat);
  EXPECT_EQ(e.code, ErrorCode::kUnavailable);
  EXPECT_EQ(e.http_status, 503);
  EXPECT_EQ(e.retry_after, 120s);
  EXPECT_EQ(e.message,
            "Hugging Face answered 503 Service Unavailable (config.json in org/name@main); try "
            "again later");
  const Error html = hf_error(502, {{"Content-Type", "text/html"}},
                              "<html><body>Bad gateway</body></html>", kWhat);
  EXPECT_EQ(html.message,
            "Hugging Face answered 502 Bad Gateway (config.json in org/name@main); try again later")
      << "HTML bodies are not quoted";
  const Error text = hf_error(504, {}, "upstream\r\ntimed out\n", kWhat);
  EXPECT_EQ(
      text.message,
      "Hugging Face answered 504 Gateway Timeout (config.json in org/name@main); try again later "
      "(Hub: upstream timed out)");
  EXPECT_EQ(hf_error(408, {}, "", kWhat).code, ErrorCode::kUnavailable);
  EXPECT_EQ(hf_error(500, {}, "", kWhat).code, ErrorCode::kUnavailable);
}

TEST(HfError, OtherStatuses) {
  const Error missing = hf_error(404, {}, "", kWhat);
  EXPECT_EQ(missing.code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.message, "not found on Hugging Face (config.json in org/name@main)");
  const Error conflict = hf_error(409, {}, "", kWhat);
  EXPECT_EQ(conflict.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(conflict.message, "Hugging Face answered 409 (config.json in org/name@main)");
}

TEST(HfError, LongServerTextIsCut) {
  const Error e = hf_error(500, {}, std::string(1000, 'x'), kWhat);
  const std::string expected_tail = "(Hub: " + std::string(300, 'x') + "...)";
  ASSERT_GE(e.message.size(), expected_tail.size());
  EXPECT_EQ(e.message.substr(e.message.size() - expected_tail.size()), expected_tail);
}

TEST(ParseRateLimit, ReadsBothHeaders) {
  auto limit = parse_rate_limit({{"ratelimit", "\"api\"; r = 0; t = 55"},
                                 {"ratelimit-policy", "\"fixed window\";\"api\";q=500;w=300"}});
  ASSERT_TRUE(limit);
  EXPECT_EQ(limit->resource, "api");
  EXPECT_EQ(limit->remaining, 0u);
  EXPECT_EQ(limit->reset_seconds, 55u);
  EXPECT_EQ(limit->limit, 500u);
  EXPECT_EQ(limit->window_seconds, 300u);
}

TEST(ParseRateLimit, PolicyIsOptionalAndMalformedIsIgnored) {
  auto limit = parse_rate_limit({{"RateLimit", "\"resolvers\";r=12;t=3"}});
  ASSERT_TRUE(limit);
  EXPECT_EQ(limit->remaining, 12u);
  EXPECT_EQ(limit->limit, std::nullopt);
  EXPECT_EQ(parse_rate_limit({}), std::nullopt);
  EXPECT_EQ(parse_rate_limit({{"RateLimit", "resolvers;r=0;t=3"}}), std::nullopt);
  EXPECT_EQ(parse_rate_limit({{"RateLimit", "\"resolvers\";r=0"}}), std::nullopt);
  EXPECT_EQ(parse_rate_limit({{"RateLimit", "\"resolvers\";r=x;t=3"}}), std::nullopt);
}

}  // namespace
}  // namespace haul::sources::hf
