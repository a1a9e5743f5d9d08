#include "sources/civitai/comfy_folders.hpp"

#include <utility>

#include "base/text.hpp"

namespace haul::sources::civitai {
namespace {

using Entry = std::pair<std::string_view, std::string_view>;

// CivitAI's ModelType enum (src/shared/utils/prisma/enums.ts) -> ComfyUI
// folder_paths.py key. Notes on the less obvious rows:
//  - LyCORIS is the older spelling of LoCon some clients still send.
//  - UNet: ComfyUI keeps "unet" only as a legacy directory of
//    "diffusion_models" (folder_paths.map_legacy), and the GGUF loaders read
//    the same folder list, so diffusion_models is the canonical target.
//  - CLIP: "clip" is likewise a legacy directory of "text_encoders".
//  - MotionModule: AnimateDiff motion modules are loaded by the
//    ComfyUI-AnimateDiff-Evolved node from models/animatediff_models; core
//    ComfyUI has no folder for them.
//  - AestheticGradient (an A1111-only extension), VisionLanguage, Poses,
//    Wildcards, Workflows, Detection and Other have no core ComfyUI folder,
//    so the caller asks the user rather than guess.
constexpr Entry kModelTypes[] = {
    {"Checkpoint", "checkpoints"},
    {"TextualInversion", "embeddings"},
    {"Hypernetwork", "hypernetworks"},
    {"LORA", "loras"},
    {"LoCon", "loras"},
    {"LyCORIS", "loras"},
    {"DoRA", "loras"},
    {"Controlnet", "controlnet"},
    {"Upscaler", "upscale_models"},
    {"MotionModule", "animatediff_models"},
    {"VAE", "vae"},
    {"TextEncoder", "text_encoders"},
    {"UNet", "diffusion_models"},
    {"CLIPVision", "clip_vision"},
    {"CLIP", "text_encoders"},
};

// ModelFile.type values (constants.modelFileTypes) that name a component of
// their own: they override the model's type. An empty folder means "not a
// model file": kept out of the models tree rather than put next to the model.
constexpr Entry kFileTypes[] = {
    {"VAE", "vae"},
    {"Text Encoder", "text_encoders"},
    {"Diffusion Model", "diffusion_models"},
    {"UNet", "diffusion_models"},
    {"CLIPVision", "clip_vision"},
    {"ControlNet", "controlnet"},
    {"Upscaler", "upscale_models"},
    {"Negative", "embeddings"},  // a negative textual-inversion embedding
    {"Enhancement LoRA", "loras"},
    {"Config", "configs"},
    {"Training Data", ""},
    {"Archive", ""},
    {"Workflow", ""},
    {"Other", ""},
};

// AIR type segments: typeUrnMap in civitai src/shared/utils/air.ts, its
// fileTypeUrnMap overrides (diffusionmodel, unet), and spellings seen in
// CivitAI's own AIRs (textencoder, diffusion_model).
constexpr Entry kAirTypes[] = {
    {"checkpoint", "checkpoints"},
    {"lora", "loras"},
    {"lycoris", "loras"},
    {"dora", "loras"},
    {"embedding", "embeddings"},
    {"vae", "vae"},
    {"controlnet", "controlnet"},
    {"upscaler", "upscale_models"},
    {"hypernet", "hypernetworks"},
    {"motion", "animatediff_models"},
    {"text_encoders", "text_encoders"},
    {"textencoder", "text_encoders"},
    {"clip", "text_encoders"},
    {"unet", "diffusion_models"},
    {"clipvision", "clip_vision"},
    {"diffusionmodel", "diffusion_models"},
    {"diffusion_model", "diffusion_models"},
};

template <std::size_t N>
const Entry* find(const Entry (&table)[N], std::string_view key) {
  for (const Entry& entry : table) {
    if (iequals(entry.first, key)) return &entry;
  }
  return nullptr;
}

}  // namespace

std::string_view comfy_folder_for(std::string_view civitai_model_type, std::string_view file_type) {
  if (const Entry* entry = find(kFileTypes, trim(file_type))) return entry->second;
  // "Model", "Pruned Model", "" and file types newer than this table: the
  // file is the model itself.
  const Entry* entry = find(kModelTypes, trim(civitai_model_type));
  return entry != nullptr ? entry->second : std::string_view();
}

std::string_view comfy_folder_for_air_type(std::string_view air_type) {
  const Entry* entry = find(kAirTypes, trim(air_type));
  return entry != nullptr ? entry->second : std::string_view();
}

}  // namespace haul::sources::civitai
