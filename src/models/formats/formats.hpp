// The readers of each manifest format behind read_manifest (manifest.hpp),
// one .cpp each, and the content tests read_manifest detects formats with.
// Internal to src/models. Each reader takes the parsed document and the
// label that names the manifest in errors; errors are kInvalidArgument, one
// line (fields.hpp).
//
// Threading: pure functions; safe from any thread.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string_view>

#include "base/error.hpp"
#include "models/model.hpp"

namespace haul::models::formats {

// haul's own manifest (docs/models.md): an object with "haul_manifest".
bool is_haul_manifest(const nlohmann::json& doc);
Result<Manifest> read_haul_manifest(const nlohmann::json& doc, std::string_view label);

// Seed 002's model config: an array of {directoryGroup, modelName,
// originalS3Path, localPath, modelSize}, or {"models": [...]} of them.
bool is_seed002_config(const nlohmann::json& doc);
Result<Manifest> read_seed002_config(const nlohmann::json& doc, std::string_view label);

// A ComfyUI workflow: UI format ({"nodes": [...], "models": [...]}) or API
// format ({"3": {"class_type": ..., "inputs": {...}}}).
bool is_comfyui_workflow(const nlohmann::json& doc);
Result<Manifest> read_comfyui_workflow(const nlohmann::json& doc, std::string_view label);

// ComfyUI-Manager's model-list.json: {"models": [{name, type, save_path,
// filename, url, ...}]}.
bool is_manager_model_list(const nlohmann::json& doc);
Result<Manifest> read_manager_model_list(const nlohmann::json& doc, std::string_view label);

}  // namespace haul::models::formats
