#include "api/web_assets.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>

namespace haul::api {
namespace {

namespace fs = std::filesystem;

std::string gunzip(std::string_view compressed) {
  z_stream stream{};
  EXPECT_EQ(inflateInit2(&stream, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  inflateEnd(&stream);
  return out;
}

void write(const fs::path& path, std::string_view text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

TEST(WebAssets, ContentTypesFollowTheExtension) {
  EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("js/views/add.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("css/app.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("icon.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("noext"), "application/octet-stream");
}

TEST(WebAssets, OnlyPlainRelativePathsAreServed) {
  for (const char* good : {"index.html", "js/main.js", "js/views/add.js", "a-b_c.css"}) {
    EXPECT_TRUE(plain_asset_path(good)) << good;
  }
  for (const char* bad : {"", "../secret", "js/../../x", "./index.html", ".git/config", "js//a.js",
                          "js/", "/etc/passwd", "a\\b", "js/.hidden", "a\x01"}) {
    EXPECT_FALSE(plain_asset_path(bad)) << bad;
  }
}

TEST(WebAssets, GzipRoundTrips) {
  const std::string text(5000, 'x');
  const std::string compressed = gzip(text);
  EXPECT_LT(compressed.size(), text.size() / 10);
  EXPECT_EQ(gunzip(compressed), text);
  EXPECT_EQ(gunzip(gzip("")), "");
}

TEST(WebAssets, ADirectoryIsReadOnEveryRequestAndConfined) {
  const fs::path root = fs::temp_directory_path() / ("haul-web-test-" + std::to_string(::getpid()));
  fs::remove_all(root);
  write(root / "web" / "index.html", "<!doctype html>one");
  write(root / "web" / "js" / "main.js", "export {};");
  write(root / "secret.txt", "token");
  auto assets = WebAssets::from_directory(root / "web");
  ASSERT_TRUE(assets) << assets.error().message;

  auto index = assets->find("index.html");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->body, "<!doctype html>one");
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(gunzip(index->gzip), index->body);
  const std::string first_etag = index->etag;
  EXPECT_EQ(first_etag.front(), '"');

  write(root / "web" / "index.html", "<!doctype html>two");  // an edit shows at once
  auto edited = assets->find("index.html");
  ASSERT_TRUE(edited);
  EXPECT_EQ(edited->body, "<!doctype html>two");
  EXPECT_NE(edited->etag, first_etag);

  EXPECT_TRUE(assets->find("js/main.js"));
  EXPECT_FALSE(assets->find("../secret.txt"));
  EXPECT_FALSE(assets->find("js"));  // a directory
  EXPECT_FALSE(assets->find("missing.js"));

  auto not_web = WebAssets::from_directory(root / "js-nowhere");
  ASSERT_FALSE(not_web);
  EXPECT_NE(not_web.error().message.find("index.html"), std::string::npos);
  fs::remove_all(root);
}

// The UI built into this binary: the page, its script and style, and the
// issue's budget of 150 KB compressed for everything.
TEST(WebAssets, TheEmbeddedUiIsCompleteAndSmall) {
  const WebAssets assets = WebAssets::embedded();
  for (const char* path : {"index.html", "js/main.js", "css/app.css"}) {
    EXPECT_TRUE(assets.find(path)) << path << " is not embedded";
  }
  std::size_t compressed = 0;
  for (const std::string& path : assets.paths()) {
    auto asset = assets.find(path);
    ASSERT_TRUE(asset) << path;
    EXPECT_EQ(gunzip(asset->gzip), asset->body) << path;
    compressed += asset->gzip.size();
  }
  EXPECT_LT(compressed, 150u * 1024u);
  EXPECT_FALSE(assets.find("README.md"));  // notes for developers stay out
}

}  // namespace
}  // namespace haul::api
