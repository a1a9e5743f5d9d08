#include "cards/resource_card.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace haul::cards {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string read_testdata(const std::string& relative) {
  std::ifstream in(std::string(HAUL_CARDS_TESTDATA) + "/" + relative, std::ios::binary);
  EXPECT_TRUE(in.good()) << relative;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

ResourceCard must_parse(std::string_view markdown, std::string_view path) {
  auto card = parse_resource_card(markdown, path);
  EXPECT_TRUE(card.has_value()) << path << ": " << (card ? "" : card.error().message);
  return card ? *card : ResourceCard{};
}

ResourceCard must_parse_file(const std::string& relative) {
  return must_parse(read_testdata(relative), relative);
}

Error must_fail(std::string_view markdown, std::string_view path) {
  auto card = parse_resource_card(markdown, path);
  EXPECT_FALSE(card.has_value()) << path << " parsed";
  return card ? Error{} : card.error();
}

// ---- the sample cards ---------------------------------------------------------------

TEST(ResourceCard, ReadsFrontMatterAndTheSeedsCivitdlCommand) {
  ResourceCard card = must_parse_file("loras/wan21_fusionx.md");
  EXPECT_EQ(card.path, "loras/wan21_fusionx.md");
  EXPECT_EQ(card.name, "Wan 2.1 FusionX LoRA") << "front matter wins over the heading";
  EXPECT_EQ(card.type, "loras");
  EXPECT_EQ(card.description, "Motion and detail LoRA for Wan 2.1 14B: sharper faces, fewer steps");
  EXPECT_EQ(card.front_matter.at("base_model"), "Wan Video 14B t2v");
  EXPECT_EQ(card.front_matter.at("civitai_version"), "1900322");
  EXPECT_EQ(card.front_matter.at("tags"), "wan\nvideo\nlora");
  // The command exactly as the seed's download_queue.json example stores it.
  EXPECT_THAT(card.commands,
              ElementsAre("civitdl \"https://civitai.com/models/1678575?modelVersionId=1900322\" "
                          "\"$UI_HOME/models/loras\""));
}

TEST(ResourceCard, WithoutFrontMatterUsesHeadingFolderAndFirstParagraph) {
  ResourceCard card = must_parse_file("diffusion_models/wan22_t2v_fp16.md");
  EXPECT_EQ(card.name, "Wan 2.2 T2V 14B (fp16, ComfyUI repackaged)");
  EXPECT_EQ(card.type, "diffusion_models");
  EXPECT_EQ(card.description,
            "The high noise and low noise experts of Wan 2.2 text-to-video, repackaged by "
            "Comfy-Org & split "
            "into two files (about 28 GB each).")
      << "emphasis markers go, the entity is decoded, the line break becomes a space";
  EXPECT_TRUE(card.front_matter.empty());
  const std::string prefix =
      "wget -P \"$UI_HOME\"/models/diffusion_models/Wan-2.2_ComfyUI_repackaged "
      "https://huggingface.co/Comfy-Org/Wan_2.2_ComfyUI_Repackaged/resolve/main/"
      "split_files/diffusion_models/";
  EXPECT_THAT(card.commands, ElementsAre(prefix + "wan2.2_t2v_high_noise_14B_fp16.safetensors",
                                         prefix + "wan2.2_t2v_low_noise_14B_fp16.safetensors"));
}

TEST(ResourceCard, TakesEveryShellBlockOfTheDownloadSectionAndNothingElse) {
  ResourceCard card = must_parse_file("checkpoints/flux_schnell.md");
  EXPECT_EQ(card.name, "FLUX.1 [schnell]");
  EXPECT_EQ(card.type, "checkpoints");
  EXPECT_EQ(card.description, "Four-step distilled FLUX model; fits in 16 GB of VRAM.");
  EXPECT_EQ(card.front_matter.at("license"), "apache-2.0");
  // json before Download, python inside it and the Troubleshooting block after
  // it are not commands; the unlabelled block of the "### Mirror" subsection is.
  EXPECT_THAT(
      card.commands,
      ElementsAre("mkdir -p \"$UI_HOME/models/checkpoints\"",
                  "wget -c -O \"$UI_HOME/models/checkpoints/flux1-schnell-fp8.safetensors\" "
                  "\"https://huggingface.co/Comfy-Org/flux1-schnell/resolve/main/"
                  "flux1-schnell-fp8.safetensors\" && "
                  "sha256sum \"$UI_HOME/models/checkpoints/flux1-schnell-fp8.safetensors\"",
                  "echo \"mirror: none configured\""));
}

TEST(ResourceCard, AcceptsSetextHeadingsAndTildeFences) {
  ResourceCard card = must_parse_file("text_encoders/umt5_xxl.md");
  EXPECT_EQ(card.name, "UMT5-XXL text encoder (fp8)");
  EXPECT_EQ(card.type, "text_encoders");
  EXPECT_EQ(card.description, "Text encoder for Wan video models.");
  EXPECT_THAT(card.commands,
              ElementsAre("hf download Comfy-Org/Wan_2.1_ComfyUI_repackaged "
                          "split_files/text_encoders/umt5_xxl_fp8_e4m3fn_scaled.safetensors "
                          "--local-dir \"$UI_HOME/models/text_encoders\""));
}

TEST(ResourceCard, RejectsACardWithoutADownloadSection) {
  Error error = must_fail(read_testdata("vae/wan_2.1_vae.md"), "vae/wan_2.1_vae.md");
  EXPECT_EQ(error.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(error.message,
            "resource card 'vae/wan_2.1_vae.md' has no '# Download' heading with a bash code block "
            "under it");
}

TEST(ResourceCard, ADownloadExampleQuotedInACodeFenceIsNotADownloadSection) {
  Error error = must_fail(read_testdata("guides/queue_design.md"), "guides/queue_design.md");
  EXPECT_THAT(error.message, HasSubstr("has no '# Download' heading"));
}

// ---- inline cards -----------------------------------------------------------------------

TEST(ResourceCard, MatchesTheDownloadHeadingAtAnyLevelAndCase) {
  EXPECT_THAT(must_parse("### download\n```bash\nls\n```\n", "x.md").commands, ElementsAre("ls"));
  EXPECT_THAT(must_parse("# Title\n## DOWNLOADS\n```\nls\n```\n", "x.md").commands,
              ElementsAre("ls"));
  EXPECT_THAT(must_parse("# `Download`\n```sh\nls\n```\n", "x.md").commands, ElementsAre("ls"))
      << "the heading's text is what counts, not its markup";
  EXPECT_THAT(must_fail("# Download models\n```bash\nls\n```\n", "x.md").message,
              HasSubstr("no '# Download' heading"));
}

TEST(ResourceCard, TheSectionEndsAtTheNextHeadingOfTheSameLevel) {
  ResourceCard card = must_parse(
      "# T\n## Download\n```bash\na\n```\n### Sub\n```bash\nb\n```\n## After\n```bash\nc\n```\n"
      "# Top\n```bash\nd\n```\n",
      "x.md");
  EXPECT_THAT(card.commands, ElementsAre("a", "b"));
}

TEST(ResourceCard, CodeBlocksInListsUnderDownloadCount) {
  ResourceCard card =
      must_parse("# Download\n1. First:\n   ```bash\n   a\n   ```\n2. Then:\n\n       b\n", "x.md");
  EXPECT_THAT(card.commands, ElementsAre("a", "b")) << "fenced and indented blocks alike";
}

TEST(ResourceCard, FallsBackToTheFileNameAndAnEmptyTypeAtTheRoot) {
  ResourceCard card = must_parse("# Download\n```bash\nls\n```\n# Notes\n", "sdxl_vae.md");
  EXPECT_EQ(card.name, "sdxl_vae") << "a heading after Download is not the title";
  EXPECT_EQ(card.type, "");
  EXPECT_EQ(card.description, "");
}

TEST(ResourceCard, FrontMatterTypeOverridesTheFolder) {
  ResourceCard card =
      must_parse("---\ntype: vae\n---\n# Download\n```bash\nls\n```\n", "misc/x.md");
  EXPECT_EQ(card.type, "vae");
  EXPECT_EQ(card.name, "x");
}

TEST(ResourceCard, HeadingEntitiesAreDecoded) {
  ResourceCard card =
      must_parse("# Q&amp;A &#8212; &#x4E2D; &copy;\n# Download\n```bash\nls\n```\n", "x.md");
  EXPECT_EQ(card.name, "Q&A \xE2\x80\x94 \xE4\xB8\xAD &copy;")
      << "unknown named entities stay as written";
}

TEST(ResourceCard, DescriptionSkipsListsAndQuotes) {
  ResourceCard card =
      must_parse("# T\n- item\n\n> quote\n\nReal text.\n# Download\n```bash\nls\n```\n", "x.md");
  EXPECT_EQ(card.description, "Real text.");
}

TEST(ResourceCard, RejectsTwoDownloadSections) {
  // The seed shows two alternatives this way; in one card it is ambiguous.
  Error error =
      must_fail("# Download\n```bash\na\n```\nor\n\n# Download\n```bash\nb\n```\n", "loras/x.md");
  EXPECT_EQ(
      error.message,
      "resource card 'loras/x.md' has 2 Download headings; keep one so it is clear what runs");
}

TEST(ResourceCard, RejectsADownloadSectionWithoutAShellBlock) {
  Error error = must_fail("# Download\n```json\n{}\n```\n```python\nprint(1)\n```\n", "loras/x.md");
  EXPECT_EQ(error.message,
            "resource card 'loras/x.md' has no bash code block under its Download heading (found "
            "only: json, "
            "python)");
  error = must_fail("# Download\nRun `civitdl` yourself.\n", "loras/x.md");
  EXPECT_EQ(error.message,
            "resource card 'loras/x.md' has no bash code block under its Download heading");
}

TEST(ResourceCard, RejectsABlockWithOnlyComments) {
  Error error = must_fail("# Download\n```bash\n# TODO: find a mirror\n\n```\n", "loras/x.md");
  EXPECT_EQ(error.message,
            "resource card 'loras/x.md': the bash block under Download has no commands (only "
            "comments or blank "
            "lines)");
}

TEST(ResourceCard, ReportsCommandAndFrontMatterErrorsWithThePath) {
  Error error = must_fail("# Download\n```bash\nwget \"https://e.com/a\n```\n", "loras/x.md");
  EXPECT_EQ(error.message,
            "resource card 'loras/x.md': command 'wget \"https://e.com/a' has a quote that is "
            "never closed");
  error = must_fail("---\nname: x\n# Download\n```bash\nls\n```\n", "loras/y.md");
  EXPECT_THAT(error.message,
              HasSubstr("resource card 'loras/y.md': front matter opened with '---'"));
}

TEST(ResourceCard, CrLfCardsParse) {
  ResourceCard card = must_parse(
      "---\r\nname: N\r\n---\r\n# Download\r\n```bash\r\na \\\r\n  b\r\nc\r\n```\r\n", "x.md");
  EXPECT_EQ(card.name, "N");
  EXPECT_THAT(card.commands, ElementsAre("a b", "c"));
}

}  // namespace
}  // namespace haul::cards
