#include "api/http/security.hpp"

#include <gtest/gtest.h>

namespace haul::api {
namespace {

const SecurityPolicy kLocal = make_policy("", "127.0.0.1", 5000);
const SecurityPolicy kGuarded = make_policy("s3cret", "0.0.0.0", 5000);

TEST(Security, LoopbackHostsAreAllowed) {
  for (const char* host : {"127.0.0.1:5000", "localhost:5000", "[::1]:5000", "LOCALHOST"}) {
    EXPECT_FALSE(check_request(kLocal, {host, {}, {}, {}})) << host;
  }
}

TEST(Security, ForeignHostIsRefusedWithoutAToken) {
  // DNS rebinding: evil.example resolves to 127.0.0.1 but keeps its name.
  auto rejection = check_request(kLocal, {"evil.example:5000", {}, {}, {}});
  ASSERT_TRUE(rejection);
  EXPECT_EQ(rejection->status, 403);
  EXPECT_EQ(rejection->code, "forbidden_host");
  EXPECT_TRUE(check_request(kLocal, {"", {}, {}, {}}));
}

TEST(Security, OnlyThePagesTheDaemonServedMayDriveIt) {
  EXPECT_FALSE(check_request(kLocal, {"127.0.0.1:5000", "http://127.0.0.1:5000", {}, {}}));
  EXPECT_FALSE(check_request(kLocal, {"localhost:5000", "http://localhost:5000", {}, {}}));
  for (const char* origin :
       {"https://evil.example", "http://127.0.0.1:3000", "null", "http://localhost"}) {
    auto rejection = check_request(kLocal, {"127.0.0.1:5000", origin, {}, {}});
    ASSERT_TRUE(rejection) << origin;
    EXPECT_EQ(rejection->code, "forbidden_origin") << origin;
  }
}

TEST(Security, ThePageAndItsAssetsNeedNoTokenButTheHostChecksStay) {
  RequestFacts page{"gpu-box:5000", {}, {}, {}};
  page.public_route = true;
  EXPECT_FALSE(check_request(kGuarded, page));
  RequestFacts foreign{"evil.example:5000", "https://evil.example", {}, {}};
  foreign.public_route = true;
  auto rejection = check_request(kLocal, foreign);
  ASSERT_TRUE(rejection);
  EXPECT_EQ(rejection->code, "forbidden_host");
}

TEST(Security, TokenIsRequiredOnEveryRequestWhenSet) {
  auto missing = check_request(kGuarded, {"gpu-box:5000", {}, {}, {}});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 401);
  EXPECT_TRUE(check_request(kGuarded, {"gpu-box:5000", {}, "Bearer wrong", {}}));
  EXPECT_TRUE(check_request(kGuarded, {"gpu-box:5000", {}, "Basic s3cret", {}}));
  EXPECT_FALSE(check_request(kGuarded, {"gpu-box:5000", {}, "Bearer s3cret", {}}));
  EXPECT_FALSE(check_request(kGuarded, {"gpu-box:5000", {}, {}, "s3cret"}));
  // Its own origin is fine, another site is not.
  EXPECT_FALSE(
      check_request(kGuarded, {"gpu-box:5000", "http://gpu-box:5000", "Bearer s3cret", {}}));
  EXPECT_TRUE(
      check_request(kGuarded, {"gpu-box:5000", "https://evil.example", "Bearer s3cret", {}}));
}

TEST(Security, SecretComparisonChecksEveryByte) {
  EXPECT_TRUE(same_secret("abc", "abc"));
  EXPECT_FALSE(same_secret("abc", "abd"));
  EXPECT_FALSE(same_secret("abc", "abcd"));
  EXPECT_FALSE(same_secret("", "a"));
}

}  // namespace
}  // namespace haul::api
