// Reading manifests: the bytes of a haul manifest, a seed 002 model config,
// a ComfyUI workflow (UI or API format) or a ComfyUI-Manager model-list.json
// into a Manifest of Models (model.hpp). docs/models.md describes the
// formats and how each maps onto models. Pure: bytes in, values out; the
// caller reads the file.
//
// Every format is checked the same way: groups are relative folders (no
// "..", "." or empty segments, no backslashes; ComfyUI's aliases such as
// "unet" are kept as written), file paths are relative (absolute only for
// seed 002's localPath), symlinks relative or absolute, sha256 digests are
// 64 hex digits (stored lower-case), sizes are non-negative integers, a
// non-empty source is a haul source (sources::classify_source), no string
// holds a control character, no two models share an id, and no two files
// share a destination (group + path, or the absolute path).
//
// Threading: pure functions; safe from any thread.
#pragma once

#include <optional>
#include <string_view>

#include "base/error.hpp"
#include "models/model.hpp"

namespace haul::models {

// Detects the format from the content and reads it. `label` names the
// manifest in errors (usually the file name as the user gave it).
// Errors: kInvalidArgument, one line naming the file, the entry by index and
// name, and the field:
//   models.json: models[2] ("juggernaut"): files[0].sha256: expected 64 hex digits, got "abc"
//   flow.json: not JSON: syntax error at byte 17 (line 2, column 5)
//   x.json: not a haul manifest, seed 002 model config, ComfyUI workflow or model-list.json
Result<Manifest> read_manifest(std::string_view text, std::string_view label);

// Reads `text` as `format`, without detection. Errors as read_manifest's;
// a document of another shape: "x.json: not a <format>: expected ...".
Result<Manifest> read_manifest_as(ManifestFormat format, std::string_view text,
                                  std::string_view label);

// The format of a manifest_format_name() ("haul", "seed002",
// "comfyui_workflow", "manager_model_list"), ASCII case ignored; nullopt
// for any other name.
std::optional<ManifestFormat> parse_manifest_format(std::string_view name);

}  // namespace haul::models
