#include "models/formats/manifest_builder.hpp"

#include "models/formats/fields.hpp"

namespace haul::models::formats {

std::string destination(const Model& model, const ModelFile& file) {
  if (!file.path.empty() && file.path.front() == '/') return file.path;
  return group_of(model, file) + '/' + file.path;
}

ManifestBuilder::ManifestBuilder(ManifestFormat format, std::string_view label) : label_(label) {
  manifest_.format = format;
}

Result<void> ManifestBuilder::add(Model model, std::string where,
                                  std::vector<std::string> path_fields) {
  const std::size_t index = manifest_.models.size();
  const Location at(label_, where);
  if (const auto [it, inserted] = ids_.try_emplace(model.id, index); !inserted) {
    return fail(at.error(
        "", "duplicate id " + in_quotes(model.id) + " (also " + wheres_[it->second] + ")"));
  }
  path_fields.resize(model.files.size(), "path");
  wheres_.push_back(std::move(where));
  path_fields_.push_back(std::move(path_fields));
  for (std::size_t i = 0; i < model.files.size(); ++i) {
    const std::string dest = destination(model, model.files[i]);
    const auto [it, inserted] = destinations_.try_emplace(dest, index, i);
    if (inserted) continue;
    const auto [other_model, other_file] = it->second;
    return fail(at.error(path_fields_[index][i], "destination " + in_quotes(dest) + " is also " +
                                                     wheres_[other_model] + " " +
                                                     path_fields_[other_model][other_file]));
  }
  manifest_.models.push_back(std::move(model));
  return {};
}

void ManifestBuilder::notice(std::string where, std::string message) {
  manifest_.notices.push_back(ManifestNotice{std::move(where), std::move(message)});
}

}  // namespace haul::models::formats
