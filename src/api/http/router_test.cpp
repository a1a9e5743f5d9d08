#include "api/http/router.hpp"

#include <gtest/gtest.h>

namespace haul::api {
namespace {

Handler noop() {
  return
      [](Request&, Stream&, RouteParams&) -> Awaitable<HandlerResult> { co_return std::nullopt; };
}

TEST(Router, MatchesLiteralAndParameterSegments) {
  Router router;
  router.add(http::verb::get, "/api/v1/jobs", noop());
  router.add(http::verb::get, "/api/v1/jobs/{id}", noop());
  router.add(http::verb::post, "/api/v1/jobs/{id}/pause", noop());

  auto list = router.match(http::verb::get, "/api/v1/jobs");
  EXPECT_NE(list.handler, nullptr);
  EXPECT_TRUE(list.params.empty());

  auto one = router.match(http::verb::get, "/api/v1/jobs/abc-123/");
  ASSERT_NE(one.handler, nullptr);
  EXPECT_EQ(one.params, std::vector<std::string>{"abc-123"});

  auto pause = router.match(http::verb::post, "/api/v1/jobs/x%20y/pause");
  ASSERT_NE(pause.handler, nullptr);
  EXPECT_EQ(pause.params, std::vector<std::string>{"x y"});
}

TEST(Router, DistinguishesUnknownPathsFromWrongMethods) {
  Router router;
  router.add(http::verb::get, "/healthz", noop());
  auto wrong_method = router.match(http::verb::post, "/healthz");
  EXPECT_EQ(wrong_method.handler, nullptr);
  EXPECT_TRUE(wrong_method.path_known);
  auto unknown = router.match(http::verb::get, "/nope");
  EXPECT_EQ(unknown.handler, nullptr);
  EXPECT_FALSE(unknown.path_known);
}

TEST(Router, ARestOfPathRouteTakesEveryRemainingSegment) {
  Router router;
  router.add(http::verb::get, "/assets/{path}", noop(),
             {.public_access = true, .rest_of_path = true});
  router.add(http::verb::get, "/api/v1/jobs/{id}", noop());

  auto nested = router.match(http::verb::get, "/assets/js/views/add.js");
  ASSERT_NE(nested.handler, nullptr);
  EXPECT_TRUE(nested.public_access);
  EXPECT_EQ(nested.params, std::vector<std::string>{"js/views/add.js"});
  auto flat = router.match(http::verb::get, "/assets/app.css");
  ASSERT_NE(flat.handler, nullptr);
  EXPECT_EQ(flat.params, std::vector<std::string>{"app.css"});
  EXPECT_EQ(router.match(http::verb::get, "/assets").handler, nullptr);  // nothing to take

  // Other routes keep their exact length and need the token.
  EXPECT_EQ(router.match(http::verb::get, "/api/v1/jobs/a/b").handler, nullptr);
  auto job = router.match(http::verb::get, "/api/v1/jobs/a");
  ASSERT_NE(job.handler, nullptr);
  EXPECT_FALSE(job.public_access);
}

TEST(Router, ListsRoutesAsRegistered) {
  Router router;
  EXPECT_TRUE(router.routes().empty());
  router.add(http::verb::get, "/api/v1/jobs/{id}", noop());
  router.add(http::verb::delete_, "/api/v1/jobs/{id}", noop());
  router.add(http::verb::post, "/socket.io/", noop());
  const std::vector<Router::RouteInfo> want = {
      {http::verb::get, "/api/v1/jobs/{id}"},
      {http::verb::delete_, "/api/v1/jobs/{id}"},
      {http::verb::post, "/socket.io/"},  // the trailing slash kept
  };
  EXPECT_EQ(router.routes(), want);
}

TEST(QueryString, DecodesPairs) {
  auto pairs = parse_query("state=running&group=my+loras&x=%2Fa&flag");
  ASSERT_EQ(pairs.size(), 4u);
  EXPECT_EQ(pairs[1].second, "my loras");
  EXPECT_EQ(pairs[2].second, "/a");
  EXPECT_EQ(pairs[3].first, "flag");
  EXPECT_EQ(pairs[3].second, "");
}

}  // namespace
}  // namespace haul::api
