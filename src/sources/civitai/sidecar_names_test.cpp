#include "sources/civitai/sidecar_names.hpp"

#include <gtest/gtest.h>

namespace haul::sources::civitai {
namespace {

constexpr std::string_view kStill =
    "https://image.civitai.com/xG1nkqKTMzGDvpLrqFT7WA/3f2e1d0c-9b8a-4765-8432-10fedcba9876/"
    "original=true/91130002.jpeg";
constexpr std::string_view kVideo =
    "https://image.civitai.com/xG1nkqKTMzGDvpLrqFT7WA/7c1d1a8e-0c4e-4c5e-9d7e-1b2c3d4e5f60/"
    "original=true/91130001.mp4";

TEST(MetadataSidecarName, ReplacesTheLastExtension) {
  EXPECT_EQ(metadata_sidecar_name("waiIllustriousSDXL_v160.safetensors"),
            "waiIllustriousSDXL_v160.civitai.info");
  EXPECT_EQ(metadata_sidecar_name("wan21.fusionx.v1.safetensors"), "wan21.fusionx.v1.civitai.info");
  EXPECT_EQ(metadata_sidecar_name("model"), "model.civitai.info");
  EXPECT_EQ(metadata_sidecar_name("Wan-2.2/model.safetensors"), "Wan-2.2/model.civitai.info");
  EXPECT_EQ(metadata_sidecar_name("v1.5/model"), "v1.5/model.civitai.info")
      << "a dot in a directory is not an extension";
}

TEST(PreviewSidecarName, TakesTheImageExtension) {
  EXPECT_EQ(preview_sidecar_name("lora.safetensors", kStill), "lora.preview.jpeg");
  EXPECT_EQ(preview_sidecar_name("lora.safetensors", "https://example.com/a/b.PNG?x=1"),
            "lora.preview.png");
  EXPECT_EQ(preview_sidecar_name("lora.safetensors", "https://example.com/a/b.webp#f"),
            "lora.preview.webp");
  EXPECT_EQ(preview_sidecar_name("lora.safetensors", "https://example.com/a/b.gif"),
            "lora.preview.gif");
}

TEST(PreviewSidecarName, UnknownExtensionsBecomeJpeg) {
  EXPECT_EQ(preview_sidecar_name("lora.safetensors", "https://example.com/image"),
            "lora.preview.jpeg");
  EXPECT_EQ(preview_sidecar_name("lora.safetensors", "https://example.com/image.avif"),
            "lora.preview.jpeg");
  EXPECT_EQ(preview_sidecar_name("lora.safetensors", "https://example.com/v1.5/image"),
            "lora.preview.jpeg");
}

TEST(ChoosePreviewImage, SkipsVideosAndAudio) {
  EXPECT_EQ(choose_preview_image({std::string(kVideo), std::string(kStill)}), kStill);
  EXPECT_EQ(choose_preview_image({"https://x/a.webm", "https://x/b.MP4?token=1", "https://x/c.mp3",
                                  "https://x/d.png"}),
            "https://x/d.png");
  EXPECT_EQ(choose_preview_image({std::string(kStill), std::string(kVideo)}), kStill)
      << "the first still wins";
}

TEST(ChoosePreviewImage, NothingWhenNoStillIsLeft) {
  EXPECT_FALSE(choose_preview_image({}).has_value());
  EXPECT_FALSE(choose_preview_image({std::string(kVideo), ""}).has_value());
}

}  // namespace
}  // namespace haul::sources::civitai
