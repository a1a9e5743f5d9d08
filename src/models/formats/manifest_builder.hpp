// Collects the models a format reader reads into a Manifest and refuses what
// no single entry shows: two models with the same id, or two files with the
// same destination (group + path, or the absolute path). Internal to
// src/models.
//
// Threading: one builder per read; not shared.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "models/model.hpp"

namespace haul::models::formats {

class ManifestBuilder {
 public:
  ManifestBuilder(ManifestFormat format, std::string_view label);

  // Adds `model`, read at `where` ("models[2] (\"juggernaut\")").
  // `path_fields[i]` names file i's path field in messages ("files[0].path",
  // "localPath"); missing entries read "path". Errors: kInvalidArgument, one
  // line naming both entries:
  //   "<label>: models[3] (\"b\"): duplicate id \"x\" (also models[0] (\"a\"))"
  //   "<label>: models[3] (\"b\"): files[0].path: destination \"loras/x.safetensors\"
  //    is also models[0] (\"a\") files[1].path"
  Result<void> add(Model model, std::string where, std::vector<std::string> path_fields);

  void notice(std::string where, std::string message);
  void set_name(std::string name) { manifest_.name = std::move(name); }

  Manifest finish() && { return std::move(manifest_); }

 private:
  std::string label_;
  Manifest manifest_;
  std::vector<std::string> wheres_;  // per model
  std::vector<std::vector<std::string>> path_fields_;
  std::map<std::string, std::size_t, std::less<>> ids_;  // id -> model index
  // destination -> (model index, file index)
  std::map<std::string, std::pair<std::size_t, std::size_t>, std::less<>> destinations_;
};

// Where a file lands: its absolute path, else "<group>/<path>".
std::string destination(const Model& model, const ModelFile& file);

}  // namespace haul::models::formats
