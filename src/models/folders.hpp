// Where the files of a model group live: for a group ("loras",
// "text_encoders", "any/folder"), the ordered directories its files may be
// in, the first being where downloads go. Built from the daemon's models
// roots, an optional ComfyUI install and ComfyUI's extra_model_paths.yaml
// sections, in ComfyUI's order:
//
//   1. is_default sections' directories (each one moved to the front, as
//      ComfyUI's add_model_folder_path(is_default=True) does, so the last
//      one read comes first);
//   2. each models root: ROOT/<group>, then the group's other on-disk
//      folders (text_encoders: ROOT/text_encoders, ROOT/clip; see
//      group_dirs());
//   3. the ComfyUI install: DIR/models/<group>, then the other folders;
//   4. the other sections' directories, in file order.
//
// Group names as ComfyUI maps them: "unet" is "diffusion_models", "clip" is
// "text_encoders" (in the group and in extra_model_paths keys). A group that
// is any other relative folder ("sdxl/styles") is ROOT/sdxl/styles. ComfyUI
// itself lists models/unet before models/diffusion_models; haul puts the
// group's own name first, so a "diffusion_models" download lands in
// diffusion_models/ (ComfyUI finds it in either).
//
// Threading: ModelFolders is an immutable value once built: safe to share
// between threads. Only load_model_folders does I/O (reads YAML files).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "base/text.hpp"
#include "models/extra_model_paths.hpp"

namespace haul::models {

// The group as ComfyUI names its folder: "unet" -> "diffusion_models",
// "clip" -> "text_encoders"; surrounding '/' removed; others unchanged.
std::string canonical_group(std::string_view group);

// The folders below a models directory that hold a group's files, the
// group's own first: {"text_encoders", "clip"}, {"diffusion_models", "unet"},
// {"controlnet", "t2i_adapter"}, else {group}. Takes a canonical group.
std::vector<std::string> group_dirs(std::string_view canonical);

class ModelFolders {
 public:
  ModelFolders() = default;
  // `roots` and `comfyui_dir` must be absolute (they are normalised: no
  // "..", no trailing '/'). `extra`: the sections of every
  // extra_model_paths.yaml in effect, in reading order.
  ModelFolders(const std::vector<std::filesystem::path>& roots,
               const std::optional<std::filesystem::path>& comfyui_dir,
               std::vector<ExtraPathsSection> extra);

  // The candidate directories for `group`, first = where downloads go;
  // without duplicates. Empty when the group is not a safe relative folder
  // ("/abs", "a/../b"): nothing may be read or written for it. The empty
  // group is the roots themselves (and the install's models/ directory).
  std::vector<std::filesystem::path> dirs(std::string_view group) const;

  // Every directory downloads may go to, for the daemon's path confinement:
  // the roots, the install's models/ directory and every directory of an
  // extra_model_paths section; a directory inside another listed one is left
  // out. Sorted.
  std::vector<std::filesystem::path> allowed_roots() const;

  // The folder names a download may go to, for people choosing one:
  // ComfyUI's standard model folders, then those the extra_model_paths
  // sections name (canonical, without duplicates).
  std::vector<std::string> folder_names() const;

  const std::vector<std::filesystem::path>& roots() const { return roots_; }
  const std::optional<std::filesystem::path>& comfyui_dir() const { return comfyui_dir_; }
  const std::vector<ExtraPathsSection>& extra() const { return extra_; }

 private:
  std::vector<std::filesystem::path> roots_;
  std::optional<std::filesystem::path> comfyui_dir_;
  std::vector<ExtraPathsSection> extra_;
};

// Builds ModelFolders from the daemon's settings: `roots` and `comfyui_dir`
// are made absolute against the working directory; COMFYUI_DIR/
// extra_model_paths.yaml is read when it exists, then each of `yaml_files`
// (which must exist). Errors: a YAML file that cannot be read or parsed
// (read_extra_model_paths' errors). Blocking I/O: not on the control thread.
Result<ModelFolders> load_model_folders(const std::vector<std::filesystem::path>& roots,
                                        const std::optional<std::filesystem::path>& comfyui_dir,
                                        const std::vector<std::filesystem::path>& yaml_files,
                                        const EnvLookup& getenv);

}  // namespace haul::models
