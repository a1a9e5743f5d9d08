#include "models/folders.hpp"

#include <algorithm>
#include <iterator>
#include <system_error>
#include <utility>

namespace haul::models {
namespace {

namespace fs = std::filesystem;

void add_unique(std::vector<fs::path>& dirs, fs::path dir) {
  if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(std::move(dir));
}

// ComfyUI's add_model_folder_path: a default directory moves to the front.
void add_first(std::vector<fs::path>& dirs, const fs::path& dir) {
  const auto found = std::find(dirs.begin(), dirs.end(), dir);
  if (found != dirs.end()) dirs.erase(found);
  dirs.insert(dirs.begin(), dir);
}

// `dir` is `root` or below it (lexically: both are normalised).
bool is_within(const fs::path& dir, const fs::path& root) {
  const std::string& d = dir.native();
  const std::string& r = root.native();
  if (!d.starts_with(r)) return false;
  return d.size() == r.size() || r == "/" || d[r.size()] == '/';
}

void append_group_dirs(std::vector<fs::path>& out, const fs::path& models_dir,
                       const std::vector<std::string>& names) {
  for (const std::string& name : names)
    add_unique(out, name.empty() ? models_dir : models_dir / name);
}

}  // namespace

std::string canonical_group(std::string_view group) {
  while (group.starts_with('/')) group.remove_prefix(1);
  while (group.ends_with('/')) group.remove_suffix(1);
  if (group == "unet") return "diffusion_models";
  if (group == "clip") return "text_encoders";
  return std::string(group);
}

std::vector<std::string> group_dirs(std::string_view canonical) {
  if (canonical == "text_encoders") return {"text_encoders", "clip"};
  if (canonical == "diffusion_models") return {"diffusion_models", "unet"};
  if (canonical == "controlnet") return {"controlnet", "t2i_adapter"};
  return {std::string(canonical)};
}

ModelFolders::ModelFolders(const std::vector<fs::path>& roots,
                           const std::optional<fs::path>& comfyui_dir,
                           std::vector<ExtraPathsSection> extra)
    : comfyui_dir_(comfyui_dir ? std::optional(normal_path(comfyui_dir->string())) : std::nullopt),
      extra_(std::move(extra)) {
  for (const fs::path& root : roots) add_unique(roots_, normal_path(root.string()));
}

std::vector<std::string> ModelFolders::folder_names() const {
  // ComfyUI's folder_paths.py, in its order, with the legacy names folded.
  std::vector<std::string> names = {
      "checkpoints",      "loras",         "vae",          "text_encoders",
      "diffusion_models", "clip_vision",   "style_models", "embeddings",
      "diffusers",        "vae_approx",    "controlnet",   "gligen",
      "upscale_models",   "hypernetworks", "photomaker",   "classifiers",
      "model_patches",    "audio_encoders"};
  for (const ExtraPathsSection& section : extra_) {
    for (const ExtraPathsFolder& folder : section.folders) {
      std::string name = canonical_group(folder.name);
      if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end())
        names.push_back(std::move(name));
    }
  }
  return names;
}

std::vector<fs::path> ModelFolders::dirs(std::string_view group) const {
  // A leading '/' is refused, not stripped: "/etc" is not a group.
  if (group.starts_with('/')) return {};
  const std::string canonical = canonical_group(group);
  if (!canonical.empty() && !is_safe_relative_path(canonical)) return {};
  const std::vector<std::string> names =
      canonical.empty() ? std::vector<std::string>{""} : group_dirs(canonical);

  std::vector<fs::path> out;
  for (const fs::path& root : roots_) append_group_dirs(out, root, names);
  if (comfyui_dir_) append_group_dirs(out, *comfyui_dir_ / "models", names);
  if (canonical.empty()) return out;
  for (const ExtraPathsSection& section : extra_) {
    for (const ExtraPathsFolder& folder : section.folders) {
      if (canonical_group(folder.name) != canonical) continue;
      for (const fs::path& dir : folder.dirs) {
        if (section.is_default) {
          add_first(out, dir);
        } else {
          add_unique(out, dir);
        }
      }
    }
  }
  return out;
}

std::vector<fs::path> ModelFolders::allowed_roots() const {
  std::vector<fs::path> all = roots_;
  if (comfyui_dir_) all.push_back(*comfyui_dir_ / "models");
  for (const ExtraPathsSection& section : extra_) {
    for (const ExtraPathsFolder& folder : section.folders) {
      all.insert(all.end(), folder.dirs.begin(), folder.dirs.end());
    }
  }
  // Sorted, a directory comes right after any directory it is inside.
  std::sort(all.begin(), all.end(),
            [](const fs::path& a, const fs::path& b) { return a.native() < b.native(); });
  std::vector<fs::path> out;
  for (fs::path& dir : all) {
    const bool covered = std::any_of(out.begin(), out.end(),
                                     [&dir](const fs::path& root) { return is_within(dir, root); });
    if (!covered) out.push_back(std::move(dir));
  }
  return out;
}

Result<ModelFolders> load_model_folders(const std::vector<fs::path>& roots,
                                        const std::optional<fs::path>& comfyui_dir,
                                        const std::vector<fs::path>& yaml_files,
                                        const EnvLookup& getenv) {
  std::error_code ec;
  auto absolute = [&ec](const fs::path& path) {
    fs::path out = fs::absolute(path, ec);
    return ec ? path : out;
  };
  std::vector<fs::path> absolute_roots;
  absolute_roots.reserve(roots.size());
  for (const fs::path& root : roots) absolute_roots.push_back(absolute(root));
  std::optional<fs::path> install;
  std::vector<ExtraPathsSection> extra;
  auto read = [&extra, &getenv](const fs::path& file) -> Result<void> {
    auto sections = read_extra_model_paths(file, getenv);
    if (!sections) return fail(sections.error());
    extra.insert(extra.end(), std::make_move_iterator(sections->begin()),
                 std::make_move_iterator(sections->end()));
    return {};
  };
  if (comfyui_dir) {
    install = absolute(*comfyui_dir);
    const fs::path yaml = *install / "extra_model_paths.yaml";
    if (fs::exists(yaml, ec)) {
      if (auto done = read(yaml); !done) return fail(done.error());
    }
  }
  for (const fs::path& file : yaml_files) {
    if (auto done = read(file); !done) return fail(done.error());
  }
  return ModelFolders(absolute_roots, install, std::move(extra));
}

}  // namespace haul::models
