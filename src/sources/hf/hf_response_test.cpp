#include "sources/hf/hf_response.hpp"

#include <gtest/gtest.h>

namespace haul::sources::hf {
namespace {

constexpr std::string_view kCommit = "f82bd3692de0283f4a4b31e06d164dd8467fb52e";
constexpr std::string_view kSha256 =
    "9be78edb5b928eba33aa88f431551348f7466ba9f5ef3daf1d552398722a5436";

// ---- headers --------------------------------------------------------------------

TEST(FindHeader, CaseInsensitiveLastWins) {
  const HeaderList headers = {{"X-Repo-Commit", "a"}, {"etag", "\"1\""}, {"x-repo-commit", "b"}};
  EXPECT_EQ(find_header(headers, "x-repo-commit"), "b");
  EXPECT_EQ(find_header(headers, "ETag"), "\"1\"");
  EXPECT_EQ(find_header(headers, "location"), std::nullopt);
}

TEST(NormalizeEtag, AsHuggingfaceHub) {
  EXPECT_EQ(normalize_etag("\"b1797ada900fbcebfe7388cefbf28e8e5b0cfe21\""),
            "b1797ada900fbcebfe7388cefbf28e8e5b0cfe21");
  EXPECT_EQ(normalize_etag("W/\"abc\""), "abc");
  EXPECT_EQ(normalize_etag("abc"), "abc");
  // Python's lstrip("W/") strips characters, not a prefix.
  EXPECT_EQ(normalize_etag("W/WW//\"x\""), "x");
  EXPECT_EQ(normalize_etag("\"Wx\""), "Wx");
  EXPECT_EQ(normalize_etag(""), "");
}

// ---- file metadata --------------------------------------------------------------

TEST(ParseFileMetadata, LfsFileRedirectedToTheCdn) {
  const HeaderList headers = {
      {"x-repo-commit", std::string(kCommit)},
      {"x-linked-etag", "\"" + std::string(kSha256) + "\""},
      {"etag", "W/\"5ee-J6Yb1yM/7A2OjJ5d3Uyw\""},
      {"x-linked-size", "548123560"},
      {"content-length", "1331"},
      {"location", "https://cas-bridge.xethub.hf.co/xet-bridge-us/abc?X-Amz-Expires=3600"},
      {"x-xet-hash", "0d8ab6e4f2e6c0"},
  };
  auto meta = parse_file_metadata(302, headers, false, "pytorch_model.bin in org/name@main");
  ASSERT_TRUE(meta) << meta.error().message;
  EXPECT_EQ(meta->commit, kCommit);
  EXPECT_EQ(meta->etag, kSha256);
  EXPECT_TRUE(meta->is_lfs);
  EXPECT_EQ(meta->size, 548123560u);
  EXPECT_EQ(meta->location, "https://cas-bridge.xethub.hf.co/xet-bridge-us/abc?X-Amz-Expires=3600");
  EXPECT_EQ(meta->xet_hash, "0d8ab6e4f2e6c0");
}

TEST(ParseFileMetadata, SmallGitFileServedDirectly) {
  const HeaderList headers = {{"X-Repo-Commit", std::string(kCommit)},
                              {"ETag", "\"b1797ada900fbcebfe7388cefbf28e8e5b0cfe21\""},
                              {"Content-Length", "1286"}};
  auto meta = parse_file_metadata(200, headers, false);
  ASSERT_TRUE(meta) << meta.error().message;
  EXPECT_EQ(meta->etag, "b1797ada900fbcebfe7388cefbf28e8e5b0cfe21");
  EXPECT_FALSE(meta->is_lfs);
  EXPECT_EQ(meta->size, 1286u);
  EXPECT_EQ(meta->location, "");
  EXPECT_EQ(meta->xet_hash, "");
}

TEST(ParseFileMetadata, RedirectBodyLengthIsNotTheFileSize) {
  const HeaderList headers = {{"X-Repo-Commit", std::string(kCommit)},
                              {"ETag", "\"abc\""},
                              {"Content-Length", "1331"},
                              {"Location", "/new-org/name/resolve/main/config.json"}};
  auto by_status = parse_file_metadata(307, headers, false);
  ASSERT_TRUE(by_status);
  EXPECT_EQ(by_status->size, std::nullopt);
  EXPECT_EQ(by_status->location, "/new-org/name/resolve/main/config.json") << "relative, as given";
  auto by_flag = parse_file_metadata(200, headers, true);
  ASSERT_TRUE(by_flag);
  EXPECT_EQ(by_flag->size, std::nullopt);
}

TEST(ParseFileMetadata, EmptyLinkedEtagFallsBackToEtag) {
  const HeaderList headers = {{"X-Repo-Commit", std::string(kCommit)},
                              {"X-Linked-Etag", ""},
                              {"ETag", "\"abc\""},
                              {"Content-Length", "12x"}};
  auto meta = parse_file_metadata(200, headers, false);
  ASSERT_TRUE(meta);
  EXPECT_EQ(meta->etag, "abc");
  EXPECT_FALSE(meta->is_lfs);
  EXPECT_EQ(meta->size, std::nullopt) << "an unreadable size is no size";
}

TEST(ParseFileMetadata, MissingCommitMeansNotTheHub) {
  auto meta = parse_file_metadata(200, {{"ETag", "\"abc\""}, {"Content-Length", "3"}}, false,
                                  "config.json in org/name@main");
  ASSERT_FALSE(meta);
  EXPECT_EQ(meta.error().code, ErrorCode::kProtocol);
  EXPECT_EQ(
      meta.error().message,
      "no X-Repo-Commit header in the answer for config.json in org/name@main: it does not come "
      "from the Hugging Face Hub (check HF_ENDPOINT and any proxy or firewall between here and "
      "the Hub)");
}

TEST(ParseFileMetadata, MissingEtag) {
  auto meta =
      parse_file_metadata(200, {{"X-Repo-Commit", std::string(kCommit)}}, false, "x in o/n@main");
  ASSERT_FALSE(meta);
  EXPECT_EQ(meta.error().code, ErrorCode::kProtocol);
  EXPECT_EQ(
      meta.error().message,
      "no ETag in the Hugging Face answer for x in o/n@main: the download could not be verified");
}

TEST(ParseFileMetadata, ErrorStatusGoesThroughHfError) {
  const HeaderList headers = {{"X-Error-Code", "EntryNotFound"},
                              {"X-Error-Message", "Entry not found"},
                              {"X-Repo-Commit", std::string(kCommit)}};
  auto meta = parse_file_metadata(404, headers, false, "missing.bin in org/name@main");
  ASSERT_FALSE(meta);
  EXPECT_EQ(meta.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(meta.error().http_status, 404);
  EXPECT_EQ(
      meta.error().message,
      "file not found in the Hugging Face repository: missing.bin in org/name@main (Hub: Entry "
      "not found)");
}

// ---- tree pages -----------------------------------------------------------------

TEST(ParseTreePage, FilesLfsFilesAndDirectories) {
  const std::string body = R"([
    {"type":"file","oid":"ae8c63daedbd4206d7d40126955d4e6ab1c80f8f","size":391,"path":".gitattributes"},
    {"type":"file","oid":"64eaa9c526867e404b68f2c5d66fd78e27026523","size":548123560,
     "lfs":{"oid":"9be78edb5b928eba33aa88f431551348f7466ba9f5ef3daf1d552398722a5436","size":548123560,
            "pointerSize":134},
     "xetHash":"1f3c0ed9a2","path":"pytorch_model.bin"},
    {"type":"directory","oid":"aa536c4ea18073388b5b0bc791057a7296a00398","size":0,"path":"unet"}
  ])";
  auto entries = parse_tree_page(body);
  ASSERT_TRUE(entries) << entries.error().message;
  ASSERT_EQ(entries->size(), 3u);
  const HfTreeEntry& small = (*entries)[0];
  EXPECT_EQ(small.path, ".gitattributes");
  EXPECT_EQ(small.type, "file");
  EXPECT_EQ(small.size, 391u);
  EXPECT_EQ(small.oid, "ae8c63daedbd4206d7d40126955d4e6ab1c80f8f");
  EXPECT_EQ(small.lfs_sha256, "");
  EXPECT_EQ(small.lfs_size, std::nullopt);
  EXPECT_EQ(small.xet_hash, "");
  const HfTreeEntry& big = (*entries)[1];
  EXPECT_EQ(big.path, "pytorch_model.bin");
  EXPECT_EQ(big.size, 548123560u);
  EXPECT_EQ(big.lfs_sha256, kSha256);
  EXPECT_EQ(big.lfs_size, 548123560u);
  EXPECT_EQ(big.xet_hash, "1f3c0ed9a2");
  const HfTreeEntry& dir = (*entries)[2];
  EXPECT_EQ(dir.type, "directory");
  EXPECT_EQ(dir.path, "unet");
  EXPECT_EQ(dir.size, 0u);
}

TEST(ParseTreePage, EmptyPage) {
  auto entries = parse_tree_page("[]");
  ASSERT_TRUE(entries);
  EXPECT_TRUE(entries->empty());
}

TEST(ParseTreePage, MalformedAnswers) {
  auto expect_protocol = [](std::string_view body, std::string_view message_start) {
    auto entries = parse_tree_page(body);
    ASSERT_FALSE(entries) << body;
    EXPECT_EQ(entries.error().code, ErrorCode::kProtocol);
    EXPECT_EQ(entries.error().message.substr(0, message_start.size()), message_start) << body;
  };
  expect_protocol("<html>", "Hugging Face tree listing: not JSON: ");
  expect_protocol(R"({"error":"Invalid rev id"})", "Hugging Face tree listing: not a JSON array");
  expect_protocol(R"([{"type":"file","size":1}])",
                  "Hugging Face tree listing: entry 0 has no string \"path\" and \"type\"");
  expect_protocol(R"([{"type":"file","path":"a","size":-1}])",
                  "Hugging Face tree listing: entry 0 (a) has a malformed \"size\"");
  expect_protocol(R"([{"type":"file","path":"a","size":"12"}])",
                  "Hugging Face tree listing: entry 0 (a) has a malformed \"size\"");
  expect_protocol(R"([{"type":"file","path":"a","size":1,"lfs":{"size":1}}])",
                  "Hugging Face tree listing: entry 0 (a) has \"lfs\" without a string \"oid\"");
  expect_protocol(R"([1])", "Hugging Face tree listing: entry 0 is not an object");
}

// ---- pagination -----------------------------------------------------------------

TEST(NextPageUrl, FindsRelNext) {
  const std::string next =
      "https://huggingface.co/api/models/org/name/tree/"
      "main?recursive=true&expand=false&cursor=ZXlK";
  EXPECT_EQ(next_page_url("<" + next + ">; rel=\"next\""), next);
  EXPECT_EQ(next_page_url("<https://a/prev>; rel=\"prev\", <" + next + ">; rel=\"next\""), next);
  EXPECT_EQ(next_page_url("<" + next + ">;rel=next"), next);
  EXPECT_EQ(next_page_url("</api/x?cursor=1>; REL=\"prev next\""), "/api/x?cursor=1")
      << "relative URLs are returned as given; rel may list several types";
  EXPECT_EQ(next_page_url("<https://a/b?x=1,2;3>; rel=\"next\""), "https://a/b?x=1,2;3");
}

TEST(NextPageUrl, NoNextPage) {
  EXPECT_EQ(next_page_url(""), std::nullopt);
  EXPECT_EQ(next_page_url("<https://a/prev>; rel=\"prev\""), std::nullopt);
  EXPECT_EQ(next_page_url(
                "<https://huggingface.co/api/models/o/n/xet-read-token/main>; rel=\"xet-auth\", "
                "<https://cas/reconstruction/abc>; rel=\"xet-reconstruction-info\""),
            std::nullopt);
  EXPECT_EQ(next_page_url("<https://a/nextish>; rel=\"nextish\""), std::nullopt);
  EXPECT_EQ(next_page_url("<https://a/unterminated; rel=\"next\""), std::nullopt);
}

// ---- revision -------------------------------------------------------------------

TEST(ParseRevisionSha, ReadsSha) {
  auto sha =
      parse_revision_sha(R"({"_id":"621ffdc036468d709f174338","id":"org/name","sha":")" +
                         std::string(kCommit) + R"(","siblings":[{"rfilename":"config.json"}]})");
  ASSERT_TRUE(sha) << sha.error().message;
  EXPECT_EQ(*sha, kCommit);
}

TEST(ParseRevisionSha, Malformed) {
  for (std::string_view body :
       {std::string_view("not json"), std::string_view("[]"),
        std::string_view(R"({"id":"org/name"})"), std::string_view(R"({"sha":12})")}) {
    auto sha = parse_revision_sha(body);
    ASSERT_FALSE(sha) << body;
    EXPECT_EQ(sha.error().code, ErrorCode::kProtocol);
  }
  auto upper = parse_revision_sha(R"({"sha":"F82BD3692DE0283F4A4B31E06D164DD8467FB52E"})");
  ASSERT_FALSE(upper);
  EXPECT_EQ(upper.error().message,
            "Hugging Face revision answer has a malformed \"sha\": "
            "'F82BD3692DE0283F4A4B31E06D164DD8467FB52E'");
  EXPECT_FALSE(parse_revision_sha(R"({"sha":"main"})"));
}

// ---- git blob SHA-1 -------------------------------------------------------------

// Expected values from `git hash-object`.

}  // namespace
}  // namespace haul::sources::hf
