#include "models/model.hpp"

namespace haul::models {

std::string_view manifest_format_name(ManifestFormat format) {
  switch (format) {
    case ManifestFormat::kHaul:
      return "haul";
    case ManifestFormat::kSeed002:
      return "seed002";
    case ManifestFormat::kComfyUiWorkflow:
      return "comfyui_workflow";
    case ManifestFormat::kManagerModelList:
      return "manager_model_list";
  }
  return "haul";
}

const std::string& group_of(const Model& model, const ModelFile& file) {
  return file.group.empty() ? model.group : file.group;
}

std::string model_id(std::string_view group, std::string_view name) {
  std::string id(group);
  id += ':';
  id += name;
  return id;
}

}  // namespace haul::models
