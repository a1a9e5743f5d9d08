#include "net/url.hpp"

#include <gtest/gtest.h>

#include "net/file_name.hpp"

namespace haul::net {
namespace {

Url must_parse(std::string_view text) {
  auto url = parse_url(text);
  EXPECT_TRUE(url.has_value()) << text << ": " << (url ? "" : url.error().message);
  return url ? *url : Url{};
}

// ---- parse_url ------------------------------------------------------------------

TEST(ParseUrl, AcceptsHttpsWithTheDefaultPort) {
  Url url = must_parse("https://example.com/models/a.bin");
  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.host, "example.com");
  EXPECT_EQ(url.port, 443);
  EXPECT_EQ(url.path, "/models/a.bin");
  EXPECT_EQ(url.text, "https://example.com/models/a.bin");
  EXPECT_EQ(url.origin(), "https://example.com:443");
}

TEST(ParseUrl, AcceptsHttpWithTheDefaultPort) {
  Url url = must_parse("http://example.com");
  EXPECT_EQ(url.scheme, "http");
  EXPECT_EQ(url.port, 80);
  EXPECT_EQ(url.path, "/");
  EXPECT_EQ(url.origin(), "http://example.com:80");
}

// Regression (fuzzing): "%7f" as the host was decoded into a control character.
TEST(ParseUrl, RefusesAHostThatDecodesToAControlCharacter) {
  for (const char* text : {"HTTP://%7f?&x", "http://%01/x", "http://a%20b/x"}) {
    auto url = parse_url(text);
    EXPECT_FALSE(url) << text << " -> " << (url ? url->text : "");
    if (!url) EXPECT_EQ(url.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_TRUE(parse_url("http://h/a%20b%7f"));  // encoded in the path: stays encoded
}

// Regression (fuzzing): "HTTP:/%300" parsed to "http://00/", whose own text
// parses to "http://0.0.0.0/": a URL and its text must give one spelling.
TEST(ParseUrl, APercentEncodedNumericHostHasOneSpelling) {
  Url url = must_parse("HTTP:/%300");
  EXPECT_EQ(url.text, "http://0.0.0.0/");
  EXPECT_EQ(url.host, "0.0.0.0");
  EXPECT_EQ(must_parse(url.text).text, url.text);
}

TEST(ParseUrl, KeepsAnExplicitPort) {
  Url url = must_parse("http://example.com:8080/x");
  EXPECT_EQ(url.port, 8080);
  EXPECT_EQ(url.origin(), "http://example.com:8080");
  EXPECT_EQ(must_parse("https://example.com:443/").origin(),
            must_parse("https://example.com/").origin());
}

TEST(ParseUrl, LowerCasesTheHost) {
  Url url = must_parse("https://Example.COM/Path/File.BIN");
  EXPECT_EQ(url.host, "example.com");
  EXPECT_EQ(url.path, "/Path/File.BIN") << "paths are case-sensitive";
  EXPECT_EQ(url.origin(), "https://example.com:443");
}

TEST(ParseUrl, OriginDependsOnSchemeHostAndPortOnly) {
  EXPECT_EQ(must_parse("https://example.com/a?x=1").origin(),
            must_parse("https://example.com/b#y").origin());
  EXPECT_NE(must_parse("https://example.com/").origin(),
            must_parse("http://example.com/").origin());
  EXPECT_NE(must_parse("https://example.com/").origin(),
            must_parse("https://example.com:8443/").origin());
  EXPECT_NE(must_parse("https://example.com/").origin(),
            must_parse("https://cdn.example.com/").origin());
}

TEST(ParseUrl, AcceptsIpAddresses) {
  Url v4 = must_parse("http://127.0.0.1:9000/f");
  EXPECT_EQ(v4.host, "127.0.0.1");
  EXPECT_EQ(v4.port, 9000);
  Url v6 = must_parse("http://[::1]:9000/f");
  EXPECT_EQ(v6.port, 9000);
  EXPECT_NE(v6.host.find("::1"), std::string::npos) << v6.host;
}

TEST(ParseUrl, RejectsOtherSchemesNamingTheUrl) {
  for (const char* bad : {"ftp://example.com/file.bin", "file:///etc/passwd"}) {
    auto url = parse_url(bad);
    ASSERT_FALSE(url.has_value()) << bad;
    EXPECT_EQ(url.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(url.error().message.find(std::string("'") + bad + "'"), std::string::npos)
        << url.error().message;
  }
}

TEST(ParseUrl, RejectsGarbageNamingTheUrl) {
  for (const char* bad : {"garbage", "", "https://", "http://exa mple.com/", "://example.com/x"}) {
    auto url = parse_url(bad);
    ASSERT_FALSE(url.has_value()) << bad;
    EXPECT_EQ(url.error().code, ErrorCode::kInvalidArgument) << bad;
    EXPECT_NE(url.error().message.find(std::string("invalid URL '") + bad + "'"), std::string::npos)
        << url.error().message;
  }
}

TEST(ParseUrl, ErrorMessagesDoNotLeakSecrets) {
  auto url = parse_url("ftp://alice:hunter2@example.com/file?X-Amz-Signature=deadbeef");
  ASSERT_FALSE(url.has_value());
  EXPECT_EQ(url.error().message.find("hunter2"), std::string::npos) << url.error().message;
  EXPECT_EQ(url.error().message.find("deadbeef"), std::string::npos) << url.error().message;
  EXPECT_NE(url.error().message.find("ftp://example.com/file?..."), std::string::npos)
      << url.error().message;
}

// ---- resolve_location -------------------------------------------------------------

TEST(ResolveLocation, ResolvesARelativePath) {
  const Url base = must_parse("https://example.com/a/b/file.bin?x=1");
  auto sibling = resolve_location(base, "other.bin");
  ASSERT_TRUE(sibling.has_value()) << sibling.error().message;
  EXPECT_EQ(sibling->text, "https://example.com/a/b/other.bin");
  EXPECT_EQ(sibling->path, "/a/b/other.bin");

  auto up = resolve_location(base, "../c.bin");
  ASSERT_TRUE(up.has_value()) << up.error().message;
  EXPECT_EQ(up->text, "https://example.com/a/c.bin");
}

TEST(ResolveLocation, ResolvesAnAbsolutePath) {
  const Url base = must_parse("https://example.com:8443/a/b/file.bin");
  auto root = resolve_location(base, "/root.bin");
  ASSERT_TRUE(root.has_value()) << root.error().message;
  EXPECT_EQ(root->text, "https://example.com:8443/root.bin");
  EXPECT_EQ(root->port, 8443);
}

TEST(ResolveLocation, FollowsAnAbsoluteUrlToAnotherHost) {
  const Url base = must_parse("https://example.com/a");
  auto cdn = resolve_location(base, "http://CDN.example.net:8080/blob?sig=1");
  ASSERT_TRUE(cdn.has_value()) << cdn.error().message;
  EXPECT_EQ(cdn->scheme, "http");
  EXPECT_EQ(cdn->host, "cdn.example.net");
  EXPECT_EQ(cdn->port, 8080);
  EXPECT_EQ(cdn->path, "/blob");
  EXPECT_EQ(cdn->origin(), "http://cdn.example.net:8080");
}

TEST(ResolveLocation, ResolvesASchemeRelativeUrl) {
  const Url base = must_parse("https://example.com/a");
  auto cdn = resolve_location(base, "//cdn.example.net/b.bin");
  ASSERT_TRUE(cdn.has_value()) << cdn.error().message;
  EXPECT_EQ(cdn->scheme, "https");
  EXPECT_EQ(cdn->host, "cdn.example.net");
  EXPECT_EQ(cdn->port, 443);
  EXPECT_EQ(cdn->text, "https://cdn.example.net/b.bin");
}

TEST(ResolveLocation, RejectsARedirectToAnotherScheme) {
  const Url base = must_parse("https://example.com/a");
  auto ftp = resolve_location(base, "ftp://example.com/a");
  ASSERT_FALSE(ftp.has_value());
  EXPECT_EQ(ftp.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(ftp.error().message.find("ftp://example.com/a"), std::string::npos)
      << ftp.error().message;
}

TEST(ResolveLocation, RejectsAMalformedLocation) {
  const Url base = must_parse("https://example.com/a");
  auto bad = resolve_location(base, "http://[::1/x?token=secret");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kProtocol);
  EXPECT_NE(bad.error().message.find("bad redirect Location"), std::string::npos)
      << bad.error().message;
  EXPECT_EQ(bad.error().message.find("secret"), std::string::npos) << bad.error().message;
}

// Found by the user_input fuzz target: libcurl reads a C string, so
// "http://a.com\0@evil/" was accepted as http://a.com.
TEST(ParseUrl, RefusesANulByte) {
  using namespace std::string_view_literals;
  auto url = parse_url("http://a.com\0@evil.example/"sv);
  ASSERT_FALSE(url.has_value());
  EXPECT_EQ(url.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(url.error().message.find("NUL"), std::string::npos) << url.error().message;
  const Url base = must_parse("https://example.com/a");
  auto location = resolve_location(base, "/b\0.bin"sv);
  ASSERT_FALSE(location.has_value());
  EXPECT_EQ(location.error().code, ErrorCode::kProtocol);
}

// Found by the user_input fuzz target: libcurl resolved "//%34/x" to the host
// "4", which parse_url spells "0.0.0.4"; a resolved URL is now as parsed.
TEST(ResolveLocation, GivesTheSpellingParseUrlGives) {
  const Url base = must_parse("https://example.com/a");
  auto resolved = resolve_location(base, "//%34/x");
  ASSERT_TRUE(resolved.has_value()) << resolved.error().message;
  const Url parsed = must_parse(resolved->text);
  EXPECT_EQ(resolved->host, parsed.host);
  EXPECT_EQ(resolved->text, parsed.text);
  EXPECT_EQ(resolved->origin(), parsed.origin());
}

// ---- redact_url -------------------------------------------------------------------

TEST(RedactUrl, DropsTheQueryString) {
  EXPECT_EQ(redact_url("https://example.com/a.bin?X-Amz-Signature=secret&X-Amz-Date=1"),
            "https://example.com/a.bin?...");
}

TEST(RedactUrl, DropsUserAndPassword) {
  EXPECT_EQ(redact_url("https://alice:hunter2@example.com/a.bin"), "https://example.com/a.bin");
  EXPECT_EQ(redact_url("https://alice@example.com"), "https://example.com");
  EXPECT_EQ(redact_url("https://alice:p@ss@example.com:8443/x"), "https://example.com:8443/x");
}

TEST(RedactUrl, DropsBothAndTheFragment) {
  EXPECT_EQ(redact_url("https://alice:hunter2@example.com/a?token=t#frag"),
            "https://example.com/a?...");
  EXPECT_EQ(redact_url("https://example.com/a#frag"), "https://example.com/a");
}

TEST(RedactUrl, LeavesCleanUrlsAlone) {
  EXPECT_EQ(redact_url("https://example.com/a/b.bin"), "https://example.com/a/b.bin");
  EXPECT_EQ(redact_url("https://example.com/user@host/b.bin"),
            "https://example.com/user@host/b.bin")
      << "an '@' in the path is not userinfo";
  EXPECT_EQ(redact_url(""), "");
  EXPECT_EQ(redact_url("not a url"), "not a url");
}

}  // namespace
}  // namespace haul::net

namespace haul::net {
namespace {

TEST(RedactSecrets, MasksCredentialsButKeepsOrdinaryParameters) {
  EXPECT_EQ(
      redact_secrets("https://civitai.com/api/download/models/1900322?type=Model&token=abc123"),
      "https://civitai.com/api/download/models/1900322?type=Model&token=REDACTED");
  EXPECT_EQ(redact_secrets("https://cdn.example/"
                           "x?X-Amz-Signature=ff&X-Amz-Credential=AK%2F1&response-content-type=a"),
            "https://cdn.example/"
            "x?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&response-content-type=a");
  EXPECT_EQ(redact_secrets("https://user:hunter2@host/p"), "https://user:REDACTED@host/p");
  EXPECT_EQ(redact_secrets("https://host/p?modelVersionId=1"), "https://host/p?modelVersionId=1");
  EXPECT_EQ(redact_secrets("https://host/p"), "https://host/p");
  EXPECT_EQ(redact_secrets("https://host/p?api_key=1#frag"), "https://host/p?api_key=REDACTED");
}

TEST(PercentEncode, KeepsUnreservedAndEncodesTheRest) {
  EXPECT_EQ(percent_encode("models/a q2.bin"), "models%2Fa%20q2.bin");
  EXPECT_EQ(percent_encode("A-z_0.9~"), "A-z_0.9~");
  EXPECT_EQ(percent_encode("&=?#%"), "%26%3D%3F%23%25");
  EXPECT_EQ(percent_encode("\xC3\xA9"), "%C3%A9");
  EXPECT_EQ(percent_decode(percent_encode("x y/\xC3\xA9&")), "x y/\xC3\xA9&");
}

}  // namespace
}  // namespace haul::net
