#include "sources/civitai/comfy_folders.hpp"

#include <gtest/gtest.h>

namespace haul::sources::civitai {
namespace {

TEST(ComfyFolderFor, ModelTypesMapToComfyUiFolders) {
  EXPECT_EQ(comfy_folder_for("Checkpoint"), "checkpoints");
  EXPECT_EQ(comfy_folder_for("LORA"), "loras");
  EXPECT_EQ(comfy_folder_for("LoCon"), "loras");
  EXPECT_EQ(comfy_folder_for("LyCORIS"), "loras");
  EXPECT_EQ(comfy_folder_for("DoRA"), "loras");
  EXPECT_EQ(comfy_folder_for("TextualInversion"), "embeddings");
  EXPECT_EQ(comfy_folder_for("VAE"), "vae");
  EXPECT_EQ(comfy_folder_for("Controlnet"), "controlnet");
  EXPECT_EQ(comfy_folder_for("Upscaler"), "upscale_models");
  EXPECT_EQ(comfy_folder_for("Hypernetwork"), "hypernetworks");
  EXPECT_EQ(comfy_folder_for("MotionModule"), "animatediff_models");
  EXPECT_EQ(comfy_folder_for("TextEncoder"), "text_encoders");
  EXPECT_EQ(comfy_folder_for("CLIP"), "text_encoders");
  EXPECT_EQ(comfy_folder_for("UNet"), "diffusion_models");
  EXPECT_EQ(comfy_folder_for("CLIPVision"), "clip_vision");
}

TEST(ComfyFolderFor, LookupIgnoresCaseAndSpaces) {
  EXPECT_EQ(comfy_folder_for("lora"), "loras");
  EXPECT_EQ(comfy_folder_for(" checkpoint "), "checkpoints");
  EXPECT_EQ(comfy_folder_for("LORA", "pruned model"), "loras");
}

TEST(ComfyFolderFor, TypesWithoutAComfyUiFolderGiveNothing) {
  for (std::string_view type : {"AestheticGradient", "Poses", "Wildcards", "Workflows", "Detection",
                                "Other", "VisionLanguage", "", "Something New"}) {
    EXPECT_EQ(comfy_folder_for(type), "") << type;
  }
}

TEST(ComfyFolderFor, ModelAndPrunedModelFilesFollowTheModelType) {
  EXPECT_EQ(comfy_folder_for("Checkpoint", "Model"), "checkpoints");
  EXPECT_EQ(comfy_folder_for("Checkpoint", "Pruned Model"), "checkpoints");
  EXPECT_EQ(comfy_folder_for("LORA", ""), "loras");
  EXPECT_EQ(comfy_folder_for("LORA", "Some Future File Type"), "loras");
}

TEST(ComfyFolderFor, ComponentFilesOverrideTheModelType) {
  EXPECT_EQ(comfy_folder_for("Checkpoint", "VAE"), "vae");
  EXPECT_EQ(comfy_folder_for("Checkpoint", "Text Encoder"), "text_encoders");
  EXPECT_EQ(comfy_folder_for("Checkpoint", "Diffusion Model"), "diffusion_models");
  EXPECT_EQ(comfy_folder_for("Checkpoint", "UNet"), "diffusion_models");
  EXPECT_EQ(comfy_folder_for("Checkpoint", "CLIPVision"), "clip_vision");
  EXPECT_EQ(comfy_folder_for("Checkpoint", "Config"), "configs");
  EXPECT_EQ(comfy_folder_for("Other", "ControlNet"), "controlnet");
  EXPECT_EQ(comfy_folder_for("Other", "Upscaler"), "upscale_models");
  EXPECT_EQ(comfy_folder_for("TextualInversion", "Negative"), "embeddings");
  EXPECT_EQ(comfy_folder_for("Checkpoint", "Enhancement LoRA"), "loras");
}

TEST(ComfyFolderFor, NonModelFilesGiveNothing) {
  EXPECT_EQ(comfy_folder_for("LORA", "Training Data"), "");
  EXPECT_EQ(comfy_folder_for("Checkpoint", "Archive"), "");
  EXPECT_EQ(comfy_folder_for("Checkpoint", "Workflow"), "");
}

TEST(ComfyFolderForAirType, TypeUrnMapValues) {
  EXPECT_EQ(comfy_folder_for_air_type("checkpoint"), "checkpoints");
  EXPECT_EQ(comfy_folder_for_air_type("lora"), "loras");
  EXPECT_EQ(comfy_folder_for_air_type("lycoris"), "loras");
  EXPECT_EQ(comfy_folder_for_air_type("dora"), "loras");
  EXPECT_EQ(comfy_folder_for_air_type("embedding"), "embeddings");
  EXPECT_EQ(comfy_folder_for_air_type("vae"), "vae");
  EXPECT_EQ(comfy_folder_for_air_type("controlnet"), "controlnet");
  EXPECT_EQ(comfy_folder_for_air_type("upscaler"), "upscale_models");
  EXPECT_EQ(comfy_folder_for_air_type("hypernet"), "hypernetworks");
  EXPECT_EQ(comfy_folder_for_air_type("motion"), "animatediff_models");
  EXPECT_EQ(comfy_folder_for_air_type("text_encoders"), "text_encoders");
  EXPECT_EQ(comfy_folder_for_air_type("textencoder"), "text_encoders");
  EXPECT_EQ(comfy_folder_for_air_type("clip"), "text_encoders");
  EXPECT_EQ(comfy_folder_for_air_type("unet"), "diffusion_models");
  EXPECT_EQ(comfy_folder_for_air_type("clipvision"), "clip_vision");
  EXPECT_EQ(comfy_folder_for_air_type("diffusionmodel"), "diffusion_models");
  EXPECT_EQ(comfy_folder_for_air_type("diffusion_model"), "diffusion_models");
  EXPECT_EQ(comfy_folder_for_air_type("LORA"), "loras");
}

TEST(ComfyFolderForAirType, UnknownTypesGiveNothing) {
  EXPECT_EQ(comfy_folder_for_air_type("ag"), "");
  EXPECT_EQ(comfy_folder_for_air_type("visionlanguage"), "");
  EXPECT_EQ(comfy_folder_for_air_type("unknown"), "");
  EXPECT_EQ(comfy_folder_for_air_type(""), "");
}

}  // namespace
}  // namespace haul::sources::civitai
