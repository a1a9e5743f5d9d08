// extra_model_paths.yaml as ComfyUI reads it: sections, base_path with ~ and
// $VARs, is_default, | blocks, paths relative to the YAML file's directory,
// and errors that name their line.
#include "models/extra_model_paths.hpp"

#include <gtest/gtest.h>

#include <map>

#include "models/presence_test_support.hpp"

namespace haul::models {
namespace {

namespace fs = std::filesystem;

const fs::path kYamlDir = "/opt/ComfyUI";

EnvLookup env(std::map<std::string, std::string> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    const auto found = values.find(std::string(name));
    if (found == values.end()) return std::nullopt;
    return found->second;
  };
}

std::vector<ExtraPathsSection> parse(std::string_view text,
                                     const EnvLookup& getenv = env({{"HOME", "/home/u"}})) {
  auto sections = parse_extra_model_paths(text, kYamlDir, getenv);
  EXPECT_TRUE(sections) << sections.error().message;
  return sections ? *sections : std::vector<ExtraPathsSection>{};
}

std::string error_of(std::string_view text) {
  auto sections = parse_extra_model_paths(text, kYamlDir, env({}));
  EXPECT_FALSE(sections) << text;
  if (sections) return {};
  EXPECT_EQ(sections.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(sections.error().message.find('\n'), std::string::npos);
  return sections.error().message;
}

TEST(ExtraModelPaths, ReadsComfyUisExample) {
  const auto sections = parse(R"(# ComfyUI's example, trimmed
comfyui:
    base_path: ~/shared/models/   # ~ expanded
    is_default: true
    checkpoints: checkpoints/
    text_encoders: |
        text_encoders/
        clip/
    my_custom_nodes: custom/    # an unknown key is a folder too

a111:
    base_path: /srv/sd-webui/
    loras: |
          models/Lora
          models/LyCORIS
)");
  ASSERT_EQ(sections.size(), 2u);
  const ExtraPathsSection& comfy = sections[0];
  EXPECT_EQ(comfy.name, "comfyui");
  EXPECT_EQ(comfy.base_path, "/home/u/shared/models");
  EXPECT_TRUE(comfy.is_default);
  ASSERT_EQ(comfy.folders.size(), 3u);
  EXPECT_EQ(comfy.folders[0],
            (ExtraPathsFolder{"checkpoints", {"/home/u/shared/models/checkpoints"}}));
  EXPECT_EQ(
      comfy.folders[1],
      (ExtraPathsFolder{"text_encoders",
                        {"/home/u/shared/models/text_encoders", "/home/u/shared/models/clip"}}));
  EXPECT_EQ(comfy.folders[2],
            (ExtraPathsFolder{"my_custom_nodes", {"/home/u/shared/models/custom"}}));
  const ExtraPathsSection& a111 = sections[1];
  EXPECT_EQ(a111.name, "a111");
  EXPECT_FALSE(a111.is_default);
  EXPECT_EQ(a111.folders,
            (std::vector<ExtraPathsFolder>{
                {"loras", {"/srv/sd-webui/models/Lora", "/srv/sd-webui/models/LyCORIS"}}}));
}

TEST(ExtraModelPaths, BasePathExpandsVariablesAndTilde) {
  const auto getenv = env({{"HOME", "/home/u/"}, {"MODELS", "/data/models"}, {"SUB", "sdxl"}});
  // A plain ~ alone is YAML's null: no base path at all.
  EXPECT_NE(error_of("b:\n  base_path: ~\n"), "");

  const auto sections = parse(
      "a:\n  base_path: $MODELS/${SUB}/x\n  vae: vae\n"
      "b:\n  base_path: '~'\n  vae: v\n"
      "c:\n  base_path: $UNSET/m\n  vae: v\n",
      getenv);
  ASSERT_EQ(sections.size(), 3u);
  EXPECT_EQ(sections[0].base_path, "/data/models/sdxl/x");
  EXPECT_EQ(sections[0].folders[0].dirs, std::vector<fs::path>{"/data/models/sdxl/x/vae"});
  EXPECT_EQ(sections[1].base_path, "/home/u");  // quoted: a string, then expanded
  // An unknown variable stays as written, and is then relative to the YAML directory.
  EXPECT_EQ(sections[2].base_path, "/opt/ComfyUI/$UNSET/m");
}

TEST(ExtraModelPaths, EntriesWithoutBasePathAreRelativeToTheYamlDirectory) {
  const auto sections = parse(
      "s:\n"
      "  checkpoints: ../shared/./ckpt/\n"
      "  loras: /abs/loras//\n"
      "  vae: ~/not-expanded\n"  // only base_path gets ~ expanded, as in ComfyUI
      "r:\n"
      "  base_path: ../models\n"  // relative base_path: against the YAML directory
      "  loras: |\n"
      "    loras\n"
      "    /elsewhere/loras\n");
  ASSERT_EQ(sections.size(), 2u);
  EXPECT_EQ(sections[0].base_path, fs::path());
  EXPECT_EQ(sections[0].folders[0].dirs, std::vector<fs::path>{"/opt/shared/ckpt"});
  EXPECT_EQ(sections[0].folders[1].dirs, std::vector<fs::path>{"/abs/loras"});
  EXPECT_EQ(sections[0].folders[2].dirs, std::vector<fs::path>{"/opt/ComfyUI/~/not-expanded"});
  EXPECT_EQ(sections[1].base_path, "/opt/models");
  EXPECT_EQ(sections[1].folders[0].dirs,
            (std::vector<fs::path>{"/opt/models/loras", "/elsewhere/loras"}));
}

TEST(ExtraModelPaths, KeepsComfyUisRulesForOddValues) {
  const auto sections = parse(
      "---\n"
      "empty:\n"  // null: skipped
      "\n"
      "'quoted section':\n"
      "  \"vae\": 'it''s here'  # comment\n"
      "  loras: \"a\\tb\\\\c\\u00e9\"\n"
      "  loras: second\n"  // a repeated key keeps its last value, in its first place
      "  clip:\n"          // null: no directories
      "  is_default: yes\n"
      "  x: a#b\n"  // '#' inside a word is not a comment
      "flags:\n"
      "  is_default: \"false\"\n"  // a non-empty string: true, as Python sees it
      "  vae: v\n"
      "off:\n"
      "  is_default: off\n"
      "  vae: v\n");
  ASSERT_EQ(sections.size(), 3u);
  const auto& quoted = sections[0];
  EXPECT_EQ(quoted.name, "quoted section");
  EXPECT_TRUE(quoted.is_default);
  ASSERT_EQ(quoted.folders.size(), 4u);
  EXPECT_EQ(quoted.folders[0], (ExtraPathsFolder{"vae", {"/opt/ComfyUI/it's here"}}));
  EXPECT_EQ(quoted.folders[1], (ExtraPathsFolder{"loras", {"/opt/ComfyUI/second"}}));
  EXPECT_EQ(quoted.folders[2], (ExtraPathsFolder{"clip", {}}));
  EXPECT_EQ(quoted.folders[3], (ExtraPathsFolder{"x", {"/opt/ComfyUI/a#b"}}));
  EXPECT_TRUE(sections[1].is_default);
  EXPECT_FALSE(sections[2].is_default);

  const auto escaped = parse("s:\n  loras: \"a\\tb\\\\c\\u00e9\"\n");
  ASSERT_EQ(escaped.size(), 1u);
  EXPECT_EQ(escaped[0].folders[0].dirs, std::vector<fs::path>{"/opt/ComfyUI/a\tb\\c\xC3\xA9"});
}

TEST(ExtraModelPaths, BlockScalarsCarryOnePathPerLine) {
  const auto sections = parse(
      "\xEF\xBB\xBFs:\r\n"  // a byte order mark and CRLF line ends
      "  base_path: /m\r\n"
      "  checkpoints: |-\r\n"
      "      a\r\n"
      "\r\n"
      "      b  \r\n"  // trailing blanks are part of the line, as in YAML
      "  vae: >\r\n"
      "    folded\r\n"
      "    into one\r\n"
      "  loras: |2\r\n"
      "     indented\r\n");
  ASSERT_EQ(sections.size(), 1u);
  ASSERT_EQ(sections[0].folders.size(), 3u);
  EXPECT_EQ(sections[0].folders[0].dirs, (std::vector<fs::path>{"/m/a", "/m/b  "}));
  EXPECT_EQ(sections[0].folders[1].dirs, std::vector<fs::path>{"/m/folded into one"});
  EXPECT_EQ(sections[0].folders[2].dirs, std::vector<fs::path>{"/m/ indented"});
}

TEST(ExtraModelPaths, ErrorsNameTheLine) {
  EXPECT_EQ(error_of("s:\n\tvae: v\n"), "line 2: tab in indentation");
  EXPECT_EQ(error_of("s: value\n"),
            "line 1: section 's' must be a mapping of folder names to paths, not a value");
  EXPECT_EQ(error_of("s:\n  vae: v\n   loras: l\n"),
            "line 3: indented 3 spaces where the section's keys are indented 2");
  EXPECT_EQ(error_of("  s:\n"),
            "line 1: indented line outside a section (sections start in column 1)");
  EXPECT_EQ(error_of("s:\n  vae:\n    nested: x\n"),
            "line 3: nested values are not supported: give a path or a | block of paths");
  EXPECT_EQ(error_of("s:\n  vae: 'open\n"), "line 2: unterminated single-quoted string");
  EXPECT_EQ(error_of("s:\n  vae: \"a\\q\"\n"), "line 2: unsupported escape \\q");
  EXPECT_EQ(error_of("s:\n  vae: 'a' b\n"), "line 2: unexpected text after a quoted string");
  EXPECT_NE(error_of("s:\n  vae: [a, b]\n").find("line 2: '[' starts a YAML feature"),
            std::string::npos);
  EXPECT_NE(error_of("s:\n  vae: &anchor a\n").find("line 2:"), std::string::npos);
  EXPECT_EQ(error_of("s:\n  - a\n"), "line 2: expected 'name: value'");
  EXPECT_EQ(error_of("s:\n  vae: - a\n"),
            "line 2: a list is not a path; give one path or a | block of paths");
  EXPECT_EQ(error_of("s:\n  vae:v\n"), "line 2: expected 'name: value'");
  EXPECT_EQ(error_of("s:\n  vae: a\n    b\n"),
            "line 3: a value continued on the next line; quote it or use | ");
  EXPECT_EQ(error_of("s:\n  vae: |\n      a\n    b\n"),
            "line 4: less indented than the block's first line");
  EXPECT_EQ(error_of("s:\n  base_path:\n"), "line 2: base_path has no value");
  EXPECT_FALSE(parse_extra_model_paths("s:\n", "relative/dir", env({})));
}

// A NUL would cut a path short where the kernel reads it ("/m\0/x" is
// opened as "/m"); other control characters but a tab are refused too.
TEST(ExtraModelPaths, ControlCharactersInPathsAreRefused) {
  EXPECT_EQ(error_of("s:\n  vae: \"/m\\0/x\"\n"), "line 2: 'vae' holds a control character");
  EXPECT_EQ(error_of(std::string("s:\n  vae: /m\x01x\n")),
            "line 2: 'vae' holds a control character");
  EXPECT_EQ(error_of("s:\n  base_path: \"/a\\nb\"\n"),
            "line 2: 'base_path' holds a control character");
  EXPECT_EQ(error_of("s:\n  loras: |\n    a\x7f\n"), "line 2: 'loras' holds a control character");
  // Several paths in one quoted value stay allowed: ComfyUI splits on "\n".
  EXPECT_EQ(parse("s:\n  base_path: /b\n  vae: \"x\\ny\"\n")[0].folders[0].dirs,
            (std::vector<fs::path>{"/b/x", "/b/y"}));
  // A variable's value is checked once expanded.
  auto sections = parse_extra_model_paths("s:\n  base_path: $BAD/m\n  vae: v\n", kYamlDir,
                                          env({{"BAD", std::string("/x\0y", 4)}}));
  ASSERT_FALSE(sections);
  EXPECT_EQ(sections.error().message,
            "section 's': base_path expands to a path with a control character");
}

TEST(ExtraModelPaths, EmptyAndCommentOnlyFilesHaveNoSections) {
  EXPECT_TRUE(parse("").empty());
  EXPECT_TRUE(parse("# nothing\n\n   \n---\n").empty());
  EXPECT_TRUE(parse("only:\n# a comment\n").empty());
}

TEST(ExtraModelPaths, ReadsAFileRelativeToItsDirectory) {
  testing::TempDir dir;
  testing::write_file(dir / "conf/extra_model_paths.yaml", "s:\n  vae: ../models/vae\n");
  auto sections = read_extra_model_paths(dir / "conf/extra_model_paths.yaml", env({}));
  ASSERT_TRUE(sections) << sections.error().message;
  ASSERT_EQ(sections->size(), 1u);
  EXPECT_EQ((*sections)[0].folders[0].dirs, std::vector<fs::path>{dir / "models/vae"});

  auto missing = read_extra_model_paths(dir / "nope.yaml", env({}));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  testing::write_file(dir / "bad.yaml", "s:\n\tx: y\n");
  auto bad = read_extra_model_paths(dir / "bad.yaml", env({}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, (dir / "bad.yaml").string() + " line 2: tab in indentation");
}

TEST(ExtraModelPaths, NormalPathIsPythonsNormpath) {
  EXPECT_EQ(normal_path("/a/b/../c/./d/"), "/a/c/d");
  EXPECT_EQ(normal_path("/../.."), "/");
  EXPECT_EQ(normal_path("//a//b"), "/a/b");
  EXPECT_EQ(normal_path("x/../../y"), "../y");
  EXPECT_EQ(normal_path("x/.."), ".");
  EXPECT_EQ(normal_path("c", "/a/b/"), "/a/b/c");
  EXPECT_EQ(normal_path("../c", "/a/b"), "/a/c");
  EXPECT_EQ(normal_path("/abs", "/a/b"), "/abs");
  EXPECT_EQ(normal_path("", "/a/b"), "/a/b");
}

}  // namespace
}  // namespace haul::models
