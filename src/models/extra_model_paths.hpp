// ComfyUI's extra_model_paths.yaml: more directories for each model folder
// name, read the way ComfyUI's utils/extra_config.py reads it, so haul looks
// for (and puts) files where that ComfyUI install does. A pure parser of the
// YAML subset those files use (no YAML library): top-level section keys, one
// indentation level of `key: value` pairs below each, `|` / `>` block
// scalars of one path per line, comments, single and double quotes.
//
//   comfyui:
//       base_path: ~/shared/models/   # ~ and $VAR / ${VAR} expanded
//       is_default: true              # prepend instead of append
//       checkpoints: checkpoints/
//       text_encoders: |
//           text_encoders/
//           clip/
//
// As in ComfyUI: every key other than base_path and is_default is a folder
// name (unknown ones are kept); entries are joined to base_path, or without
// one resolved against the YAML file's directory; only base_path gets ~ and
// variables expanded; a relative base_path is relative to the YAML file's
// directory; a section whose value is empty is skipped; a repeated key keeps
// its last value.
//
// Threading: pure functions, callable from any thread (read_extra_model_paths
// reads a file: not on the control thread).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "base/text.hpp"

namespace haul::models {

// One folder name of a section and its directories, absolute and normalised
// ("/a/b/../c/" -> "/a/c"), in file order.
struct ExtraPathsFolder {
  std::string name;  // as written: "checkpoints", "clip", "my_folder"
  std::vector<std::filesystem::path> dirs;
  friend bool operator==(const ExtraPathsFolder&, const ExtraPathsFolder&) = default;
};

struct ExtraPathsSection {
  std::string name;                 // "comfyui", "a111", ...
  std::filesystem::path base_path;  // absolute and normalised; empty when the section has none
  bool is_default = false;          // its directories go before the others
  std::vector<ExtraPathsFolder> folders;  // in file order
  friend bool operator==(const ExtraPathsSection&, const ExtraPathsSection&) = default;
};

// Parses the text of an extra_model_paths.yaml. `yaml_dir` is the absolute
// directory the file is in; `getenv` looks up HOME (for ~) and $VARs.
// Errors: kInvalidArgument with one line naming the line number ("line 4:
// tab in indentation") for what is not this YAML subset or not the shape
// ComfyUI expects (a section that is not a mapping, a nested mapping deeper
// than one level, flow collections, anchors, an unterminated quote), for a
// path holding a control character other than a tab (raw or escaped, or
// from an expanded variable), and for a relative `yaml_dir`.
Result<std::vector<ExtraPathsSection>> parse_extra_model_paths(
    std::string_view text, const std::filesystem::path& yaml_dir, const EnvLookup& getenv);

// Reads and parses the file at `file` (made absolute against the working
// directory). Errors: kNotFound when it does not exist, kIo when it cannot be
// read, and parse_extra_model_paths' errors prefixed with the file's path.
// Blocking I/O.
Result<std::vector<ExtraPathsSection>> read_extra_model_paths(const std::filesystem::path& file,
                                                              const EnvLookup& getenv);

// A path made absolute against `base` when relative, with ".", "..", empty
// components and a trailing '/' removed, as Python's os.path.normpath (".."
// at the root stays at the root). Pure: no symlink is resolved.
std::filesystem::path normal_path(std::string_view path, const std::filesystem::path& base = {});

}  // namespace haul::models
