// What users think in: models. A model is a named entry of a manifest with a
// group (a ComfyUI model folder such as "checkpoints" or "loras", or any
// relative folder) and one or more files, each with the haul source it comes
// from. Manifests of several formats (manifest.hpp) read into these values;
// presence (presence.hpp) and sync work on them. Values only, no I/O.
//
// Threading: values; safe to copy between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace haul::models {

struct ModelFile {
  // Any haul source (https://..., hf://..., a civitai.com URL or AIR URN,
  // s3://...). Empty: no source is known (a workflow's loader node names the
  // file but not where it comes from); presence is still checked.
  std::string source;
  // Where the file lives: relative to the group's folder
  // ("sdxl/juggernaut.safetensors"), or absolute (only seed 002's localPath).
  std::string path;
  std::optional<std::uint64_t> size;  // bytes, when the manifest says
  std::string sha256;                 // lowercase hex, or empty
  // Extra paths that must be symlinks to this file (the same file seen by a
  // second UI): relative to the models root the file is in, or absolute.
  std::vector<std::string> symlinks;
  // The folder this file goes to when it is not the model's own (a model of
  // seed 004 puts its diffusion model, VAE and text encoder each in their
  // own folder); "" = the model's group.
  std::string group{};
  friend bool operator==(const ModelFile&, const ModelFile&) = default;
};

struct Model;
// The folder `file` of `model` goes to: its own group, else the model's.
const std::string& group_of(const Model& model, const struct ModelFile& file);

struct Model {
  // Unique within its manifest: the manifest's own id, else
  // model_id(group, name).
  std::string id;
  std::string name;   // display name ("z-image-turbo", "sd_xl_base_1.0.safetensors")
  std::string group;  // "checkpoints", "loras", "text_encoders", ... or "any/folder"
  std::vector<ModelFile> files;
  friend bool operator==(const Model&, const Model&) = default;
};

// Something a manifest names that haul cannot act on, reported beside the
// models instead of being dropped: "node 7 (CheckpointLoaderSimple):
// sd_xl_base_1.0.safetensors: no source known".
struct ManifestNotice {
  std::string where;    // "node 7 (CheckpointLoaderSimple)", "models[3] (TAEF1 Decoder)"
  std::string message;  // "sd_xl_base_1.0.safetensors: no source known"
  friend bool operator==(const ManifestNotice&, const ManifestNotice&) = default;
};

enum class ManifestFormat {
  kHaul,              // haul's own JSON manifest (docs/models.md)
  kSeed002,           // seed 002's model config: {directoryGroup, modelName, ...}
  kComfyUiWorkflow,   // a ComfyUI workflow (UI format, or API format)
  kManagerModelList,  // ComfyUI-Manager's model-list.json
};

// "haul", "seed002", "comfyui_workflow", "manager_model_list".
std::string_view manifest_format_name(ManifestFormat format);

struct Manifest {
  ManifestFormat format = ManifestFormat::kHaul;
  std::string name;  // the manifest's own name, if it has one
  std::vector<Model> models;
  std::vector<ManifestNotice> notices;
};

// The id of a model the manifest gives none: "<group>:<name>"
// ("checkpoints:sd_xl_base_1.0.safetensors"). Usable in a URL path segment
// as it is (':' needs no escaping there).
std::string model_id(std::string_view group, std::string_view name);

}  // namespace haul::models
