// Which ComfyUI models/ folder a CivitAI download belongs in, from CivitAI's
// model type (model.type), the file's own type (files[].type) or an AIR type
// segment. The names are ComfyUI's folder_paths.py keys ("checkpoints",
// "loras", "text_encoders", "diffusion_models", ...), which are also the
// on-disk directory names; Plan::suggested_folder takes them as they are.
// Pure lookups, case-insensitive.
#pragma once

#include <string_view>

namespace haul::sources::civitai {

// The folder for one file of a version. A file type that names a component
// wins over the model type: a "VAE" file inside a Checkpoint version goes to
// "vae", a "Text Encoder" to "text_encoders", a "Diffusion Model" or "UNet"
// file to "diffusion_models", a "Config" to "configs". "Model", "Pruned Model"
// and "" defer to the model type: Checkpoint -> checkpoints, LORA / LoCon /
// LyCORIS / DoRA -> loras, TextualInversion -> embeddings, VAE -> vae,
// Controlnet -> controlnet, Upscaler -> upscale_models, Hypernetwork ->
// hypernetworks, MotionModule -> animatediff_models, TextEncoder and CLIP ->
// text_encoders, UNet -> diffusion_models, CLIPVision -> clip_vision.
// "" when no ComfyUI folder fits (AestheticGradient, Poses, Wildcards,
// Workflows, Detection, Other; "Training Data", "Archive" files; unknown).
std::string_view comfy_folder_for(std::string_view civitai_model_type,
                                  std::string_view file_type = "Model");

// The same for an AIR type segment (typeUrnMap values and the file-type
// overrides): checkpoint, lora, lycoris, dora, embedding, vae, controlnet,
// upscaler, hypernet, motion, text_encoders (also textencoder), unet, clip,
// clipvision, diffusionmodel (also diffusion_model). "" for ag,
// visionlanguage and unknown types.
std::string_view comfy_folder_for_air_type(std::string_view air_type);

}  // namespace haul::sources::civitai
