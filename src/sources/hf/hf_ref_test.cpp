#include "sources/hf/hf_ref.hpp"

#include <gtest/gtest.h>

namespace haul::sources::hf {
namespace {

using RepoType = HfRef::RepoType;

constexpr std::string_view kHub = "https://huggingface.co";

HfRef must_parse(std::string_view source, std::string_view endpoint = kHub) {
  auto ref = parse_hf_source(source, endpoint);
  EXPECT_TRUE(ref.has_value()) << source << ": " << (ref ? "" : ref.error().message);
  return ref ? *ref : HfRef{};
}

std::string parse_error(std::string_view source, std::string_view endpoint = kHub) {
  auto ref = parse_hf_source(source, endpoint);
  EXPECT_FALSE(ref.has_value()) << source << " parsed as "
                                << (ref ? ref->repo_id + " " + ref->path : "");
  if (ref) return "";
  EXPECT_EQ(ref.error().code, ErrorCode::kInvalidArgument);
  return ref.error().message;
}

HfRef ref_of(RepoType type, std::string repo_id) {
  HfRef ref;
  ref.type = type;
  ref.repo_id = std::move(repo_id);
  return ref;
}

// ---- hf:// ----------------------------------------------------------------------

TEST(ParseHfUri, RepositoryAlone) {
  HfRef ref = must_parse("hf://org/name");
  EXPECT_EQ(ref.type, RepoType::kModel);
  EXPECT_EQ(ref.repo_id, "org/name");
  EXPECT_EQ(ref.revision, "main");
  EXPECT_EQ(ref.path, "");
  EXPECT_FALSE(ref.explicit_revision);
}

TEST(ParseHfUri, RevisionAndFile) {
  HfRef ref = must_parse("hf://Org-1/Name_2.x@v1.0/sub/model.safetensors");
  EXPECT_EQ(ref.repo_id, "Org-1/Name_2.x");
  EXPECT_EQ(ref.revision, "v1.0");
  EXPECT_TRUE(ref.explicit_revision);
  EXPECT_EQ(ref.path, "sub/model.safetensors");
}

TEST(ParseHfUri, TypePrefixes) {
  EXPECT_EQ(must_parse("hf://datasets/org/name/data/*.parquet").type, RepoType::kDataset);
  EXPECT_EQ(must_parse("hf://datasets/org/name/data/*.parquet").path, "data/*.parquet");
  EXPECT_EQ(must_parse("hf://spaces/org/name").type, RepoType::kSpace);
  HfRef model = must_parse("hf://models/org/name/x.bin");
  EXPECT_EQ(model.type, RepoType::kModel);
  EXPECT_EQ(model.repo_id, "org/name");
  EXPECT_EQ(model.path, "x.bin");
  EXPECT_EQ(must_parse("HF://org/name").repo_id, "org/name") << "the scheme is case-insensitive";
}

TEST(ParseHfUri, PullRequestRefsAreRevisionsEitherWay) {
  HfRef plain = must_parse("hf://org/name@refs/pr/1/model.bin");
  EXPECT_EQ(plain.revision, "refs/pr/1");
  EXPECT_EQ(plain.path, "model.bin");
  HfRef encoded = must_parse("hf://org/name@refs%2Fpr%2F1/model.bin");
  EXPECT_EQ(encoded.revision, "refs/pr/1");
  EXPECT_EQ(encoded.path, "model.bin");
  HfRef convert = must_parse("hf://datasets/org/name@refs/convert/parquet");
  EXPECT_EQ(convert.revision, "refs/convert/parquet");
  EXPECT_EQ(convert.path, "");
  HfRef whole = must_parse("hf://org/name@refs/pr/12");
  EXPECT_EQ(whole.revision, "refs/pr/12");
  EXPECT_EQ(whole.path, "");
}

TEST(ParseHfUri, OtherRevisionsWithSlashMustBeEncoded) {
  HfRef encoded = must_parse("hf://org/name@my%2Fbranch/a.bin");
  EXPECT_EQ(encoded.revision, "my/branch");
  EXPECT_EQ(encoded.path, "a.bin");
  HfRef split = must_parse("hf://org/name@my/branch/a.bin");
  EXPECT_EQ(split.revision, "my");
  EXPECT_EQ(split.path, "branch/a.bin");
  HfRef not_pr = must_parse("hf://org/name@refs/pr/1x/a.bin");
  EXPECT_EQ(not_pr.revision, "refs") << "refs/pr/ needs digits up to the next '/'";
  EXPECT_EQ(not_pr.path, "pr/1x/a.bin");
}

TEST(ParseHfUri, AtSignInsideThePathIsLiteral) {
  HfRef ref = must_parse("hf://org/name/file@1.txt");
  EXPECT_FALSE(ref.explicit_revision);
  EXPECT_EQ(ref.revision, "main");
  EXPECT_EQ(ref.path, "file@1.txt");
}

TEST(ParseHfUri, PathIsNotPercentDecoded) {
  EXPECT_EQ(must_parse("hf://org/name/a%20b.bin").path, "a%20b.bin");
}

TEST(ParseHfUri, FoldersKeepTheirTrailingSlash) {
  EXPECT_EQ(must_parse("hf://org/name/unet/").path, "unet/");
  EXPECT_EQ(must_parse("hf://org/name@main/").path, "");
  EXPECT_EQ(must_parse("hf://org/name/").path, "");
}

TEST(ParseHfUri, Errors) {
  EXPECT_EQ(parse_error("hf://gpt2"),
            "hf source 'hf://gpt2': missing repository name (expected ORG/NAME)");
  EXPECT_EQ(parse_error("hf://"), "hf source 'hf://': missing repository name (expected ORG/NAME)");
  EXPECT_EQ(parse_error("hf://datasets"),
            "hf source 'hf://datasets': missing repository name after 'datasets/'");
  EXPECT_EQ(parse_error("hf://datasets/org"),
            "hf source 'hf://datasets/org': missing repository name (expected ORG/NAME)");
  EXPECT_EQ(parse_error("hf://gpt2@main"),
            "hf source 'hf://gpt2@main': missing repository name (expected ORG/NAME before '@')");
  EXPECT_EQ(parse_error("hf://dataset/org/name"),
            "hf source 'hf://dataset/org/name': the type prefix is plural: 'datasets/'");
  EXPECT_EQ(parse_error("hf://org/name@"), "hf source 'hf://org/name@': empty revision after '@'");
  EXPECT_EQ(parse_error("hf://kernels/org/name"),
            "hf source 'hf://kernels/org/name': kernels are not supported (models, datasets and "
            "spaces are)");
  EXPECT_EQ(parse_error("hf://org/name/../secret"),
            "hf source 'hf://org/name/../secret': unsafe path '../secret'");
  EXPECT_EQ(parse_error("hf://org/name/a//b"),
            "hf source 'hf://org/name/a//b': unsafe path 'a//b'");
  EXPECT_NE(parse_error("hf://org/na--me").find("'--' and '..' are not allowed"),
            std::string::npos);
  EXPECT_NE(parse_error("hf://org/name.git").find("cannot end in '.git'"), std::string::npos);
  EXPECT_NE(parse_error("hf://org/-name").find("not starting or ending with '-' or '.'"),
            std::string::npos);
  EXPECT_NE(parse_error("hf://org/" + std::string(97, 'a')).find("longer than 96"),
            std::string::npos);
  EXPECT_EQ(parse_error("org/name"),
            "hf source 'org/name': expected hf://ORG/NAME[@REV][/PATH] or a huggingface.co URL");
}

TEST(ParseHfUri, NameOf96CharactersIsAccepted) {
  EXPECT_EQ(must_parse("hf://org/" + std::string(96, 'a')).repo_id, "org/" + std::string(96, 'a'));
}

// ---- https:// -------------------------------------------------------------------

TEST(ParseHubUrl, RepositoryPage) {
  HfRef ref = must_parse("https://huggingface.co/org/name");
  EXPECT_EQ(ref.type, RepoType::kModel);
  EXPECT_EQ(ref.repo_id, "org/name");
  EXPECT_EQ(ref.revision, "main");
  EXPECT_EQ(ref.path, "");
  EXPECT_FALSE(ref.explicit_revision);
  EXPECT_EQ(must_parse("https://huggingface.co/org/name/").path, "");
  EXPECT_EQ(must_parse("https://www.huggingface.co/datasets/org/name").type, RepoType::kDataset);
}

TEST(ParseHubUrl, ResolveUrlWithQueryString) {
  HfRef ref =
      must_parse("https://huggingface.co/org/name/resolve/main/model.safetensors?download=true");
  EXPECT_EQ(ref.revision, "main");
  EXPECT_TRUE(ref.explicit_revision);
  EXPECT_EQ(ref.path, "model.safetensors");
}

TEST(ParseHubUrl, BlobAndRawUrls) {
  HfRef blob = must_parse("https://huggingface.co/org/name/blob/v2/sub/dir/x.bin#L10");
  EXPECT_EQ(blob.revision, "v2");
  EXPECT_EQ(blob.path, "sub/dir/x.bin");
  HfRef raw = must_parse("https://huggingface.co/spaces/org/name/raw/main/app.py");
  EXPECT_EQ(raw.type, RepoType::kSpace);
  EXPECT_EQ(raw.path, "app.py");
}

TEST(ParseHubUrl, TreeUrlsNameFolders) {
  HfRef folder = must_parse("https://hf.co/datasets/org/name/tree/main/data/train");
  EXPECT_EQ(folder.type, RepoType::kDataset);
  EXPECT_EQ(folder.revision, "main");
  EXPECT_EQ(folder.path, "data/train/");
  HfRef root = must_parse("https://huggingface.co/org/name/tree/dev");
  EXPECT_EQ(root.revision, "dev");
  EXPECT_TRUE(root.explicit_revision);
  EXPECT_EQ(root.path, "");
}

TEST(ParseHubUrl, PercentDecodesRevisionAndPath) {
  HfRef ref = must_parse("https://huggingface.co/org/name/resolve/refs%2Fpr%2F3/a%20b%2Bc.bin");
  EXPECT_EQ(ref.revision, "refs/pr/3");
  EXPECT_EQ(ref.path, "a b+c.bin");
  HfRef plain = must_parse("https://huggingface.co/org/name/resolve/refs/pr/3/model.bin");
  EXPECT_EQ(plain.revision, "refs/pr/3");
  EXPECT_EQ(plain.path, "model.bin");
  EXPECT_EQ(must_parse("https://huggingface.co/org/name/resolve/main/100%25.bin").path, "100%.bin");
  EXPECT_EQ(must_parse("https://huggingface.co/org/name/resolve/main/50%.bin").path, "50%.bin")
      << "a '%' without two hex digits stays";
}

TEST(ParseHubUrl, EndpointHostIsAccepted) {
  HfRef ref =
      must_parse("http://127.0.0.1:8080/org/name/resolve/main/x.bin", "http://127.0.0.1:8080");
  EXPECT_EQ(ref.repo_id, "org/name");
  EXPECT_EQ(ref.path, "x.bin");
  EXPECT_EQ(must_parse("https://hf-mirror.com/org/name", "https://hf-mirror.com/").repo_id,
            "org/name");
  HfRef prefixed = must_parse("https://mirror.example/hf/org/name/resolve/main/x.bin",
                              "https://mirror.example/hf");
  EXPECT_EQ(prefixed.repo_id, "org/name");
  EXPECT_EQ(prefixed.path, "x.bin");
  // huggingface.co URLs stay valid with a mirror configured.
  EXPECT_EQ(must_parse("https://huggingface.co/org/name", "https://hf-mirror.com").repo_id,
            "org/name");
}

TEST(ParseHubUrl, Errors) {
  EXPECT_EQ(parse_error("http://127.0.0.1:9999/org/name", "http://127.0.0.1:8080"),
            "hf source 'http://127.0.0.1:9999/org/name': not a Hugging Face URL (host 127.0.0.1)");
  EXPECT_EQ(parse_error("https://cdn-lfs.huggingface.co/repos/x?sig=secret"),
            "hf source 'https://cdn-lfs.huggingface.co/repos/x': not a Hugging Face URL (host "
            "cdn-lfs.huggingface.co)")
      << "the query string is not shown";
  EXPECT_EQ(parse_error("https://huggingface.co/org"),
            "hf source 'https://huggingface.co/org': missing repository name (expected ORG/NAME)");
  EXPECT_EQ(
      parse_error("https://huggingface.co/org/name/discussions/3"),
      "hf source 'https://huggingface.co/org/name/discussions/3': unsupported Hugging Face URL "
      "form '/discussions/' (expected a repository, /resolve/, /blob/ or /tree/ URL)");
  EXPECT_EQ(parse_error("https://huggingface.co/org/name/resolve/main"),
            "hf source 'https://huggingface.co/org/name/resolve/main': missing file path after "
            "/resolve/main/");
  EXPECT_EQ(
      parse_error("https://huggingface.co/org/name/resolve/main/dir/"),
      "hf source 'https://huggingface.co/org/name/resolve/main/dir/': missing file path after "
      "/resolve/main/");
  EXPECT_EQ(parse_error("https://huggingface.co/org/name/tree/"),
            "hf source 'https://huggingface.co/org/name/tree/': missing revision after /tree/");
  EXPECT_EQ(parse_error("https://huggingface.co/org/name/resolve/main/%2E%2E/x"),
            "hf source 'https://huggingface.co/org/name/resolve/main/%2E%2E/x': unsafe path '../x'")
      << "decoded '..' segments are refused";
  EXPECT_EQ(parse_error("https://huggingface.co/org/name/resolve/main/a%00b"),
            std::string(
                "hf source 'https://huggingface.co/org/name/resolve/main/a%00b': unsafe path 'a") +
                '\0' + "b'");
}

// ---- URL builders ---------------------------------------------------------------

TEST(UrlQuote, MatchesPythonQuote) {
  // Expected values from Python 3.11's urllib.parse.quote.
  EXPECT_EQ(url_quote("data/train 1.parquet", "/"), "data/train%201.parquet");
  EXPECT_EQ(url_quote("refs/pr/1", ""), "refs%2Fpr%2F1");
  EXPECT_EQ(url_quote("\xC3\xA9.bin", "/"), "%C3%A9.bin");
  EXPECT_EQ(url_quote("a+b&c=d~x.bin", "/"), "a%2Bb%26c%3Dd~x.bin");
  EXPECT_EQ(url_quote("a%b#c?.bin", "/"), "a%25b%23c%3F.bin");
}

TEST(ResolveUrl, ModelDatasetAndSpace) {
  EXPECT_EQ(resolve_url(kHub, ref_of(RepoType::kModel, "org/name"), "main", "model.safetensors"),
            "https://huggingface.co/org/name/resolve/main/model.safetensors");
  EXPECT_EQ(
      resolve_url("https://huggingface.co/", ref_of(RepoType::kDataset, "org/name"), "refs/pr/1",
                  "data/train 1.parquet"),
      "https://huggingface.co/datasets/org/name/resolve/refs%2Fpr%2F1/data/train%201.parquet");
  EXPECT_EQ(
      resolve_url("http://127.0.0.1:8080", ref_of(RepoType::kSpace, "org/name"), "v1", "app.py"),
      "http://127.0.0.1:8080/spaces/org/name/resolve/v1/app.py");
}

TEST(ApiTreeUrl, QuotesTheDirectoryWhole) {
  EXPECT_EQ(api_tree_url(kHub, ref_of(RepoType::kModel, "org/name"), "main", ""),
            "https://huggingface.co/api/models/org/name/tree/main?recursive=true&expand=false");
  EXPECT_EQ(api_tree_url(kHub, ref_of(RepoType::kDataset, "org/name"), "refs/pr/2", "data/train/"),
            "https://huggingface.co/api/datasets/org/name/tree/refs%2Fpr%2F2/data%2Ftrain"
            "?recursive=true&expand=false");
}

TEST(ApiRevisionUrl, QuotesTheRevision) {
  EXPECT_EQ(api_revision_url(kHub, ref_of(RepoType::kSpace, "org/name"), "refs/pr/2"),
            "https://huggingface.co/api/spaces/org/name/revision/refs%2Fpr%2F2");
  EXPECT_EQ(api_revision_url(kHub, ref_of(RepoType::kModel, "org/name"), "main"),
            "https://huggingface.co/api/models/org/name/revision/main");
}

TEST(RepoPageUrl, HasTheTypePrefix) {
  EXPECT_EQ(repo_page_url(kHub, ref_of(RepoType::kModel, "meta-llama/Llama-3.1-8B")),
            "https://huggingface.co/meta-llama/Llama-3.1-8B");
  EXPECT_EQ(repo_page_url("https://hf-mirror.com/", ref_of(RepoType::kDataset, "org/name")),
            "https://hf-mirror.com/datasets/org/name");
}

TEST(Describe, NamesFileRepositoryAndRevision) {
  EXPECT_EQ(describe(ref_of(RepoType::kModel, "org/name"), "main", "model.safetensors"),
            "model.safetensors in org/name@main");
  EXPECT_EQ(describe(ref_of(RepoType::kDataset, "org/name"), "v1", ""), "datasets/org/name@v1");
}

TEST(IsGlob, FnmatchWildcards) {
  EXPECT_TRUE(is_glob("*.safetensors"));
  EXPECT_TRUE(is_glob("model-0000?.bin"));
  EXPECT_TRUE(is_glob("shard[0-3].bin"));
  EXPECT_FALSE(is_glob("unet/diffusion_pytorch_model.safetensors"));
  EXPECT_FALSE(is_glob(""));
}

TEST(CheckRepoPath, RefusesPathsThatLeaveTheRepository) {
  EXPECT_TRUE(check_repo_path("model.safetensors"));
  EXPECT_TRUE(check_repo_path("a/b/c.bin"));
  EXPECT_TRUE(check_repo_path(".gitattributes"));
  EXPECT_TRUE(check_repo_path("a..b/c"));
  for (std::string_view bad :
       {"", "/etc/passwd", "../x", "a/../x", "a/..", "./a", "a/./b", "a//b", "a/"}) {
    auto result = check_repo_path(bad);
    ASSERT_FALSE(result) << bad;
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(result.error().message, "unsafe path in repository: '" + std::string(bad) + "'");
  }
  EXPECT_FALSE(check_repo_path(std::string_view("a\0b", 3)));
}

}  // namespace
}  // namespace haul::sources::hf
