// ComfyUI-Manager's model-list.json:
//   {"models": [{"name": "TAEF1 Decoder", "type": "TAESD", "base": "FLUX.1",
//     "save_path": "vae_approx", "description": "...", "reference": "...",
//     "filename": "taef1_decoder.pth", "url": "https://...", "size": "4.71MB"}]}
// The folder follows the Manager's get_model_dir(): save_path relative to
// models/, or for "default" the folder of the type; "..", a leading '/' and
// unknown types land in "etc". `size` is a rounded display string and is
// not used: a wrong expected size would mark good files corrupt. The same
// file listed twice is read once (a notice names the second).
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "base/text.hpp"
#include "models/formats/fields.hpp"
#include "models/formats/formats.hpp"
#include "models/formats/manifest_builder.hpp"

namespace haul::models::formats {
namespace {

using nlohmann::json;

struct TypeFolder {
  std::string_view type;  // lower-case
  std::string_view folder;
};

// The Manager's model_dir_name_map (glob/manager_server.py), then haul's
// additions: TAESD files are what vae_approx holds, and the plural folder
// names as types.
constexpr TypeFolder kTypeFolders[] = {
    {"checkpoints", "checkpoints"},
    {"checkpoint", "checkpoints"},
    {"unclip", "checkpoints"},
    {"text_encoders", "text_encoders"},
    {"clip", "text_encoders"},
    {"vae", "vae"},
    {"lora", "loras"},
    {"t2i-adapter", "controlnet"},
    {"t2i-style", "controlnet"},
    {"controlnet", "controlnet"},
    {"clip_vision", "clip_vision"},
    {"gligen", "gligen"},
    {"upscale", "upscale_models"},
    {"embedding", "embeddings"},
    {"embeddings", "embeddings"},
    {"unet", "diffusion_models"},
    {"diffusion_model", "diffusion_models"},
    {"taesd", "vae_approx"},
    {"loras", "loras"},
    {"diffusion_models", "diffusion_models"},
    {"upscale_models", "upscale_models"},
};

constexpr std::string_view kOtherFolder = "etc";
constexpr std::string_view kWholeRepo = "<huggingface>";

std::string_view folder_of_type(std::string_view type) {
  const std::string lower = to_lower(trim(type));
  for (const TypeFolder& entry : kTypeFolders) {
    if (entry.type == lower) return entry.folder;
  }
  return kOtherFolder;
}

bool has_manager_key(const json& entry) {
  return entry.is_object() && (entry.contains("save_path") || entry.contains("filename"));
}

// The entry's folder, or "" when it is skipped (a notice says why).
Result<std::string> read_group(const Fields& fields, ManifestBuilder& builder, const Location& at) {
  auto save_path = fields.optional_string("save_path");
  if (!save_path) return fail(std::move(save_path.error()));
  std::string path = save_path->value_or("");
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.empty() || path == "default") {
    auto type = fields.optional_string("type");
    if (!type) return fail(std::move(type.error()));
    return std::string(folder_of_type(type->value_or("")));
  }
  if (path.find("..") != std::string::npos || path.front() == '/') {
    builder.notice(at.where(), "save_path " + in_quotes(path) + " is not allowed: put in " +
                                   std::string(kOtherFolder) + " as the Manager does");
    return std::string(kOtherFolder);
  }
  if (path.starts_with("custom_nodes")) {
    builder.notice(at.where(), "save_path " + in_quotes(path) +
                                   " is inside a custom node, not the models folder: skipped");
    return std::string();
  }
  if (auto problem = group_problem(path); !problem.empty())
    return fail(fields.error("save_path", problem));
  return path;
}

// Destination -> the entry that gave it first.
using Seen = std::map<std::string, std::string, std::less<>>;

Result<void> read_entry(const json& entry, const Location& at, ManifestBuilder& builder,
                        Seen& seen) {
  if (auto object = expect_object(entry, at); !object) return object;
  const Fields fields(entry, at);
  auto filename = fields.string("filename");
  if (!filename) return fail(std::move(filename.error()));
  auto url = fields.source("url", true);
  if (!url) return fail(std::move(url.error()));
  auto name = fields.optional_string("name");
  if (!name) return fail(std::move(name.error()));
  if (*filename == kWholeRepo) {
    builder.notice(at.where(),
                   std::string(kWholeRepo) + ": a whole repository, not a model file: skipped");
    return {};
  }
  // The Manager refuses these names (get_model_dir returns None).
  if (filename->find_first_of("/\\:") != std::string::npos) {
    builder.notice(
        at.where(),
        in_quotes(*filename) + ": a file name with '/', '\\' or ':' the Manager refuses: skipped");
    return {};
  }
  auto group = read_group(fields, builder, at);
  if (!group) return fail(std::move(group.error()));
  if (group->empty()) return {};
  if (auto problem = path_problem(*filename, false); !problem.empty())
    return fail(fields.error("filename", problem));

  Model model;
  model.group = std::move(*group);
  model.id = model_id(model.group, *filename);
  // An empty name (seen in hand-edited lists) is no name: the file's stands.
  model.name = name->value_or("").empty() ? *filename : **name;
  ModelFile file;
  file.source = std::move(*url);
  file.path = std::move(*filename);
  model.files.push_back(std::move(file));
  // The Manager's list is a catalogue: the same file listed twice (for two
  // bases, say) is one download, not a broken manifest.
  const std::string dest = destination(model, model.files[0]);
  if (const auto [it, inserted] = seen.try_emplace(dest, at.where()); !inserted) {
    builder.notice(at.where(), in_quotes(dest) + ": also " + it->second + ": skipped");
    return {};
  }
  return builder.add(std::move(model), at.where(), {"filename"});
}

}  // namespace

bool is_manager_model_list(const json& doc) {
  if (!doc.is_object()) return false;
  const auto models = doc.find("models");
  return models != doc.end() && models->is_array() &&
         std::any_of(models->begin(), models->end(), has_manager_key);
}

Result<Manifest> read_manager_model_list(const json& doc, std::string_view label) {
  const Location top(label, "");
  if (!doc.is_object() || !doc.contains("models")) {
    return fail(top.error(
        "", "not a ComfyUI-Manager model list: expected an object with a \"models\" array"));
  }
  auto entries = Fields(doc, top).array("models");
  if (!entries) return fail(std::move(entries.error()));
  ManifestBuilder builder(ManifestFormat::kManagerModelList, label);
  Seen seen;
  for (std::size_t i = 0; i < (*entries)->size(); ++i) {
    const json& entry = (**entries)[i];
    const Location at(label, entry_where("models", i, peek_string(entry, "name")));
    if (auto read = read_entry(entry, at, builder, seen); !read)
      return fail(std::move(read.error()));
  }
  return std::move(builder).finish();
}

}  // namespace haul::models::formats
