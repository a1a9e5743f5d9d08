#include "models/manifest.hpp"

#include <nlohmann/json.hpp>

#include "base/text.hpp"
#include "models/formats/fields.hpp"
#include "models/formats/formats.hpp"

namespace haul::models {
namespace {

using nlohmann::json;

constexpr ManifestFormat kFormats[] = {ManifestFormat::kHaul, ManifestFormat::kSeed002,
                                       ManifestFormat::kComfyUiWorkflow,
                                       ManifestFormat::kManagerModelList};

Result<Manifest> read_as(ManifestFormat format, const json& doc, std::string_view label) {
  switch (format) {
    case ManifestFormat::kHaul:
      return formats::read_haul_manifest(doc, label);
    case ManifestFormat::kSeed002:
      return formats::read_seed002_config(doc, label);
    case ManifestFormat::kComfyUiWorkflow:
      return formats::read_comfyui_workflow(doc, label);
    case ManifestFormat::kManagerModelList:
      return formats::read_manager_model_list(doc, label);
  }
  return fail(ErrorCode::kInternal, "unknown manifest format");
}

// In this order: a haul manifest says so; a workflow has "nodes" (and may
// also have a "models" list); seed 002's entries and the Manager's have keys
// of their own.
std::optional<ManifestFormat> detect(const json& doc) {
  if (formats::is_haul_manifest(doc)) return ManifestFormat::kHaul;
  if (formats::is_comfyui_workflow(doc)) return ManifestFormat::kComfyUiWorkflow;
  if (formats::is_seed002_config(doc)) return ManifestFormat::kSeed002;
  if (formats::is_manager_model_list(doc)) return ManifestFormat::kManagerModelList;
  return std::nullopt;
}

}  // namespace

Result<Manifest> read_manifest(std::string_view text, std::string_view label) {
  auto doc = formats::parse_json(text, label);
  if (!doc) return fail(std::move(doc.error()));
  const auto format = detect(*doc);
  if (!format) {
    return fail(formats::Location(label, "").error(
        "", "not a haul manifest, seed 002 model config, ComfyUI workflow or model-list.json"));
  }
  return read_as(*format, *doc, label);
}

Result<Manifest> read_manifest_as(ManifestFormat format, std::string_view text,
                                  std::string_view label) {
  auto doc = formats::parse_json(text, label);
  if (!doc) return fail(std::move(doc.error()));
  return read_as(format, *doc, label);
}

std::optional<ManifestFormat> parse_manifest_format(std::string_view name) {
  for (ManifestFormat format : kFormats) {
    if (iequals(manifest_format_name(format), name)) return format;
  }
  return std::nullopt;
}

}  // namespace haul::models
