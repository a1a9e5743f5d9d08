#include "api/web_routes.hpp"

#include <gtest/gtest.h>

namespace haul::api {
namespace {

WebAsset page() {
  WebAsset asset;
  asset.content_type = "text/html; charset=utf-8";
  asset.body = std::string(2000, 'a');
  asset.gzip = gzip(asset.body);
  asset.etag = "\"0123456789abcdef\"";
  return asset;
}

Request get(std::initializer_list<std::pair<http::field, const char*>> headers) {
  Request request{http::verb::get, "/", 11};
  for (const auto& [field, value] : headers) request.set(field, value);
  return request;
}

TEST(WebRoutes, GzipIsSentOnlyWhenAccepted) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("gzip, deflate, br"));
  EXPECT_TRUE(accepts_gzip("br;q=1.0, gzip;q=0.8"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("br, deflate"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip; q=0.000"));
  EXPECT_FALSE(accepts_gzip("x-gzip2"));
}

TEST(WebRoutes, EtagsMatchListsWeakFormsAndStar) {
  const std::string etag = "\"abc\"";
  EXPECT_TRUE(etag_matches("\"abc\"", etag));
  EXPECT_TRUE(etag_matches("\"x\", W/\"abc\"", etag));
  EXPECT_TRUE(etag_matches("*", etag));
  EXPECT_FALSE(etag_matches("", etag));
  EXPECT_FALSE(etag_matches("\"abcd\"", etag));
}

TEST(WebRoutes, AnAssetComesWithItsHeadersAndGzipWhenAsked) {
  const WebAsset asset = page();
  const Response plain = asset_response(asset, get({}));
  EXPECT_EQ(plain.result(), http::status::ok);
  EXPECT_EQ(plain.body(), asset.body);
  EXPECT_EQ(std::string(plain[http::field::content_type]), "text/html; charset=utf-8");
  EXPECT_EQ(std::string(plain[http::field::etag]), asset.etag);
  EXPECT_EQ(std::string(plain["Content-Security-Policy"]), std::string(kWebContentSecurityPolicy));
  EXPECT_EQ(std::string(plain["X-Content-Type-Options"]), "nosniff");
  EXPECT_EQ(plain.count(http::field::content_encoding), 0u);

  const Response compressed = asset_response(asset, get({{http::field::accept_encoding, "gzip"}}));
  EXPECT_EQ(std::string(compressed[http::field::content_encoding]), "gzip");
  EXPECT_EQ(compressed.body(), asset.gzip);
  EXPECT_EQ(std::string(compressed[http::field::vary]), "Accept-Encoding");
}

TEST(WebRoutes, AKnownEtagGetsNotModifiedWithoutABody) {
  const WebAsset asset = page();
  const Response response =
      asset_response(asset, get({{http::field::if_none_match, "\"0123456789abcdef\""}}));
  EXPECT_EQ(response.result(), http::status::not_modified);
  EXPECT_TRUE(response.body().empty());
  EXPECT_EQ(std::string(response[http::field::etag]), asset.etag);
}

TEST(WebRoutes, TheCspAllowsNoInlineCodeAndNothingFromElsewhere) {
  const std::string_view csp = kWebContentSecurityPolicy;
  EXPECT_EQ(csp.find("unsafe"), std::string_view::npos);
  EXPECT_NE(csp.find("script-src 'self'"), std::string_view::npos);
  EXPECT_NE(csp.find("style-src 'self'"), std::string_view::npos);
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string_view::npos);
}

}  // namespace
}  // namespace haul::api
