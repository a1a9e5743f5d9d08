// Seed 002's model config: a JSON array (or {"models": [...]}) of
//   {"directoryGroup": "checkpoints", "modelName": "model.safetensors",
//    "originalS3Path": "s3://bucket/path", "localPath": "/path/model.safetensors",
//    "modelSize": 1234567}
// One model of one file per entry. Other keys are the seed's own business
// (status fields and the like) and are ignored.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "models/formats/fields.hpp"
#include "models/formats/formats.hpp"
#include "models/formats/manifest_builder.hpp"
#include "sources/s3/s3_ref.hpp"
#include "sources/source_kind.hpp"

namespace haul::models::formats {
namespace {

using nlohmann::json;

constexpr std::string_view kSeedKeys[] = {"directoryGroup", "modelName", "originalS3Path",
                                          "localPath", "modelSize"};

bool has_seed_key(const json& entry) {
  return entry.is_object() &&
         std::any_of(std::begin(kSeedKeys), std::end(kSeedKeys),
                     [&](std::string_view key) { return entry.contains(key); });
}

// The entries: the document itself, or its "models" array.
const json* entries_of(const json& doc) {
  if (doc.is_array()) return &doc;
  if (!doc.is_object()) return nullptr;
  const auto it = doc.find("models");
  return it != doc.end() && it->is_array() ? &*it : nullptr;
}

Result<void> read_entry(const json& entry, const Location& at, ManifestBuilder& builder) {
  if (auto object = expect_object(entry, at); !object) return object;
  const Fields fields(entry, at);
  Model model;
  auto group = fields.group("directoryGroup");
  if (!group) return fail(std::move(group.error()));
  model.group = std::move(*group);
  auto name = fields.string("modelName");
  if (!name) return fail(std::move(name.error()));
  model.name = std::move(*name);
  model.id = model_id(model.group, model.name);

  ModelFile file;
  auto source = fields.string("originalS3Path");
  if (!source) return fail(std::move(source.error()));
  if (sources::classify_source(*source) != sources::SourceKind::kS3)
    return fail(fields.error("originalS3Path", "expected an s3:// URL, got " + in_quotes(*source)));
  // One file per entry: an object, not a bucket or prefix.
  const auto ref = sources::s3::parse_s3_source(*source);
  if (!ref || ref->is_prefix())
    return fail(fields.error("originalS3Path",
                             "expected s3://BUCKET/KEY of one object, got " + in_quotes(*source)));
  file.source = std::move(*source);

  // An empty or missing localPath: the file is modelName in the group's folder.
  auto local_path = fields.optional_string("localPath");
  if (!local_path) return fail(std::move(local_path.error()));
  const bool has_local_path = *local_path && !(*local_path)->empty();
  const std::string path_field = has_local_path ? "localPath" : "modelName";
  file.path = has_local_path ? std::move(**local_path) : model.name;
  if (auto problem = path_problem(file.path, has_local_path); !problem.empty())
    return fail(fields.error(path_field, problem));

  auto size = fields.size("modelSize", true);
  if (!size) return fail(std::move(size.error()));
  file.size = *size;
  model.files.push_back(std::move(file));
  return builder.add(std::move(model), at.where(), {path_field});
}

}  // namespace

bool is_seed002_config(const json& doc) {
  const json* entries = entries_of(doc);
  return entries != nullptr &&
         (entries->empty() || std::any_of(entries->begin(), entries->end(), has_seed_key));
}

Result<Manifest> read_seed002_config(const json& doc, std::string_view label) {
  const json* entries = entries_of(doc);
  if (entries == nullptr) {
    return fail(Location(label, "").error(
        "", "not a seed 002 model config: expected an array of models, or {\"models\": [...]}"));
  }
  const std::string_view list = doc.is_array() ? "" : "models";
  ManifestBuilder builder(ManifestFormat::kSeed002, label);
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const json& entry = (*entries)[i];
    const Location at(label, entry_where(list, i, peek_string(entry, "modelName")));
    if (auto read = read_entry(entry, at, builder); !read) return fail(std::move(read.error()));
  }
  return std::move(builder).finish();
}

}  // namespace haul::models::formats
