#include "sources/hf/hf_patterns.hpp"

#include <gtest/gtest.h>

namespace haul::sources::hf {
namespace {

struct MatchCase {
  const char* name;
  const char* pattern;
  bool expected;
};

// Every expected value was produced by Python 3.11's fnmatch.fnmatchcase.
TEST(FnmatchCase, AgreesWithPython) {
  const MatchCase cases[] = {
      {"data/sub/x.json", "data/*.json", true},
      {"data/x.json", "data/*.json", true},
      {"x.json", "data/*.json", false},
      {"a/b/c.bin", "*", true},
      {"", "*", true},
      {"", "?", false},
      {"", "", true},
      {"file.txt", "", false},
      {"README.md", "*.MD", false},
      {"notes.MD", "*.MD", true},
      {"model-00001-of-00002.safetensors", "model-0000?-of-0000?.safetensors", true},
      {"model-00010-of-00002.safetensors", "model-0000?-of-0000?.safetensors", false},
      {"a", "[abc]", true},
      {"d", "[abc]", false},
      {"d", "[!abc]", true},
      {"a", "[!abc]", false},
      {"/", "[!abc]", true},
      {"b", "[a-c]", true},
      {"B", "[a-c]", false},
      {"-", "[a-]", true},
      {"-", "[-a]", true},
      {"-", "[!-a]", false},
      {"b", "[!-a]", true},
      {"]", "[]]", true},
      {"]", "[!]]", false},
      {"x", "[!]]", true},
      {"[", "[", true},
      {"[a", "[a", true},
      {"[!]", "[!]", true},
      {"a", "[!]", false},
      {"b", "[c-a]", false},
      {"c", "[c-a]", false},
      {"x", "[!c-a]", true},
      {"\n", "[!c-a]", true},
      {"b", "[!c-ab]", false},
      {"x", "[!c-ab]", true},
      {"-", "[a-c-e]", true},
      {"d", "[a-c-e]", false},
      {"e", "[a-c-e]", true},
      {"b", "[a-c-e]", true},
      {"\\", "[\\]", true},
      {"a\\b", "a\\b", true},
      {"a", "\\a", false},
      {"^", "[^a]", true},
      {"b", "[^a]", false},
      {"&", "[&&]", true},
      {"\xC3\xA9", "?", true},
      {"\xC3\xA9", "??", false},
      {"\xC3\xA9", "[\xC3\xA9]", true},
      {"\xC3\xBC", "[a-z]", false},
      {"\xC3\xBC", "[\xC3\xA0-\xC3\xBF]", true},
      {"abcabcabc", "*abc*abc", true},
      {"abcabd", "*abc*abc", false},
      {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "*a*a*a*a*a*a*a*a*c", false},
      {"a.b", "a?b", true},
      {"a/b", "a?b", true},
      {"path/to/.git/folder/file.txt", "**/.git/**", true},
      {".cache/huggingface_folder", ".cache/huggingface", false},
      {"x.y", "*.*.*", false},
      {"line\nbreak", "line*break", true},
      {"tail", "tail*", true},
      {"ab", "a**b", true},
      {"[x]", "[[]x]", true},
      {"z", "[z-a]", false},
      {"q", "[a-cq]", true},
      {"!", "[!!]", false},
      {"a", "[!!]", true},
      {"!", "[a!]", true},
      {"model.safetensors", "*.safetensors", true},
      {"unet/model.safetensors", "*.safetensors", true},
      {"x.safetensors.index.json", "*.safetensors", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(fnmatch_case(c.name, c.pattern), c.expected)
        << "fnmatchcase('" << c.name << "', '" << c.pattern << "')";
  }
}

TEST(FnmatchCase, InvalidUtf8BytesAreSingleCharacters) {
  EXPECT_TRUE(fnmatch_case("\xFF", "?"));
  EXPECT_TRUE(fnmatch_case("a\xC3", "a?")) << "a truncated sequence is one character per byte";
  EXPECT_FALSE(fnmatch_case("\xFF\xFE", "?"));
}

TEST(NormalizePattern, FolderAndBackslash) {
  EXPECT_EQ(normalize_pattern("path/to/"), "path/to/*");
  EXPECT_EQ(normalize_pattern("unet\\config.json"), "unet/config.json");
  EXPECT_EQ(normalize_pattern("unet\\"), "unet/*") << "backslashes first, then the folder rule";
  EXPECT_EQ(normalize_pattern("*.bin"), "*.bin");
  EXPECT_EQ(normalize_pattern(""), "");
}

// filter_repo_objects over a list, as huggingface_hub's tests call it.
std::vector<std::string> filter(const std::vector<std::string>& items,
                                const std::vector<std::string>& allow,
                                const std::vector<std::string>& ignore) {
  std::vector<std::string> kept;
  for (const auto& item : items) {
    if (keep_path(item, allow, ignore)) kept.push_back(item);
  }
  return kept;
}

using Paths = std::vector<std::string>;

// The cases of huggingface_hub's tests/test_utils_paths.py and the docstring
// example of filter_repo_objects.
const Paths kDummyFiles = {"not_hidden.pdf", "profile.jpg", ".hidden.pdf", ".hidden_picture.png"};

TEST(KeepPath, HuggingfaceHubTestCases) {
  EXPECT_EQ(filter(kDummyFiles, {"*.pdf"}, {}), (Paths{"not_hidden.pdf", ".hidden.pdf"}));
  EXPECT_EQ(filter(kDummyFiles, {"*.pdf"}, {".*"}), (Paths{"not_hidden.pdf"}));
  EXPECT_EQ(filter(kDummyFiles, {"*.png", "*.jpg"}, {}),
            (Paths{"profile.jpg", ".hidden_picture.png"}));
  EXPECT_EQ(filter(kDummyFiles, {"*.png", "*.jpg"}, {".*"}), (Paths{"profile.jpg"}));
  EXPECT_EQ(filter({"aaa.pdf", "bbb.jpg", ".ccc.pdf", ".ddd.png"}, {"*.pdf"}, {".*"}),
            (Paths{"aaa.pdf"}));
}

TEST(KeepPath, FolderPatternSelectsTheFolder) {
  const Paths items = {"file.txt",
                       "lfs.bin",
                       "path/to/file.txt",
                       "path/to/lfs.bin",
                       "nested/path/to/file.txt",
                       "nested/path/to/lfs.bin"};
  EXPECT_EQ(filter(items, {"path/to/"}, {}), (Paths{"path/to/file.txt", "path/to/lfs.bin"}));
}

TEST(KeepPath, EmptyPatterns) {
  EXPECT_EQ(filter({"file.txt", "lfs.bin"}, {""}, {}), Paths{});
  EXPECT_EQ(filter({"file.txt", "lfs.bin"}, {}, {""}), (Paths{"file.txt", "lfs.bin"}));
  EXPECT_EQ(filter({"file.txt", "lfs.bin"}, {}, {}), (Paths{"file.txt", "lfs.bin"}))
      << "no allow list keeps everything";
}

TEST(KeepPath, CaseSensitive) {
  EXPECT_EQ(filter({"README.md", "notes.MD"}, {"*.MD"}, {}), (Paths{"notes.MD"}));
  EXPECT_EQ(filter({"README.md", "notes.MD"}, {"*.md"}, {}), (Paths{"README.md"}));
  EXPECT_EQ(filter({"keep.txt", "drop.LOG", "keep.log"}, {}, {"*.LOG"}),
            (Paths{"keep.txt", "keep.log"}));
}

TEST(KeepPath, BackslashesAreSeparators) {
  EXPECT_EQ(
      filter({"unet/config.json", "vae/config.json", "unet/model.bin"}, {"unet\\config.json"}, {}),
      (Paths{"unet/config.json"}));
  EXPECT_EQ(filter({"unet\\config.json", "unet\\model.bin"}, {"unet/*.json"}, {}),
            (Paths{"unet\\config.json"}));
  EXPECT_EQ(filter({"unet/config.json", "unet/model.bin"}, {}, {"unet\\*.json"}),
            (Paths{"unet/model.bin"}));
}

TEST(KeepPath, DefaultIgnorePatterns) {
  // huggingface_hub's DEFAULT_IGNORE_PATTERNS and TestDefaultIgnorePatterns.
  const Paths ignore = {".git",
                        ".git/*",
                        "*/.git",
                        "**/.git/**",
                        ".cache/huggingface",
                        ".cache/huggingface/*",
                        "*/.cache/huggingface",
                        "**/.cache/huggingface/**"};
  const Paths to_ignore = {".git",
                           ".git/file.txt",
                           ".git/folder/file.txt",
                           "path/to/folder/.git",
                           "path/to/folder/.git/file.txt",
                           "path/to/.git/folder/file.txt",
                           ".cache/huggingface",
                           ".cache/huggingface/file.txt",
                           ".cache/huggingface/folder/file.txt",
                           "path/to/.cache/huggingface",
                           "path/to/.cache/huggingface/file.txt"};
  const Paths valid = {".gitignore",
                       "path/foo.git/file.txt",
                       "path/.git_bar/file.txt",
                       "path/to/file.git",
                       "file.huggingface",
                       "path/file.huggingface",
                       ".cache/huggingface_folder",
                       ".cache/huggingface_folder/file.txt"};
  Paths all = to_ignore;
  all.insert(all.end(), valid.begin(), valid.end());
  EXPECT_EQ(filter(all, {}, ignore), valid);
}

TEST(KeepPath, StarCrossesDirectories) {
  EXPECT_TRUE(keep_path("data/sub/file.json", {"data/*.json"}, {}));
  EXPECT_TRUE(keep_path("text_encoder/model.safetensors", {"*.safetensors"}, {}));
  EXPECT_FALSE(keep_path("text_encoder/model.bin", {"*.safetensors"}, {}));
  EXPECT_FALSE(keep_path("text_encoder/model.safetensors", {"*.safetensors"}, {"text_encoder/"}));
}

}  // namespace
}  // namespace haul::sources::hf
