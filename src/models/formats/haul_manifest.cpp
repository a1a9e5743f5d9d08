// haul's own manifest format (docs/models.md, docs/manifest.schema.json):
//   {"haul_manifest": 1, "name": "...", "models": [{"id"?, "name", "group",
//    "files": [{"source", "path"?, "size"?, "sha256"?, "symlinks"?}]}]}
// or a one-file model with the file's keys on the model itself. Unknown keys
// are errors: a typo ("sha265") must not silently drop a check.
#include <nlohmann/json.hpp>

#include "models/formats/fields.hpp"
#include "models/formats/formats.hpp"
#include "models/formats/manifest_builder.hpp"
#include "net/file_name.hpp"
#include "sources/hf/hf_ref.hpp"
#include "sources/s3/s3_ref.hpp"
#include "sources/source_kind.hpp"

namespace haul::models::formats {
namespace {

using nlohmann::json;

constexpr int kVersion = 1;

std::string last_segment(std::string_view path) {
  const auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// The file name a source names, the default "path" of its file; "" when it
// names none: a CivitAI model (the name comes with the resolved version), a
// whole repository, folder, glob or S3 prefix.
std::string file_name_of(const std::string& source) {
  switch (sources::classify_source(source)) {
    case sources::SourceKind::kHuggingFace: {
      const auto ref = sources::hf::parse_hf_source(source, "");
      if (!ref || ref->path.empty() || ref->path.back() == '/' || sources::hf::is_glob(ref->path))
        return {};
      return last_segment(ref->path);
    }
    case sources::SourceKind::kS3: {
      const auto ref = sources::s3::parse_s3_source(source);
      return !ref || ref->is_prefix() ? std::string() : last_segment(ref->key);
    }
    case sources::SourceKind::kUrl:
      return net::file_name_from_url(source);
    case sources::SourceKind::kCivitai:
    case sources::SourceKind::kUnknown:
      break;
  }
  return {};
}

// One file: the entry of "files", or the model itself in the one-file form.
Result<ModelFile> read_file(const Fields& fields) {
  if (auto known = fields.only({"source", "path", "size", "sha256", "symlinks", "group"}); !known)
    return fail(std::move(known.error()));
  ModelFile file;
  if (fields.has("group")) {
    auto group = fields.group("group");
    if (!group) return fail(std::move(group.error()));
    file.group = std::move(*group);
  }
  auto source = fields.source("source", true);
  if (!source) return fail(std::move(source.error()));
  file.source = std::move(*source);
  // Relative only: a manifest (perhaps posted to the daemon) says where in
  // the models roots a file goes, never where on the machine.
  auto path = fields.path("path", false);
  if (!path) return fail(std::move(path.error()));
  if (*path) {
    file.path = std::move(**path);
  } else {
    file.path = file_name_of(file.source);
    if (file.path.empty() || !path_problem(file.path, false).empty())
      return fail(fields.error("path", "missing, and the source names no file to default to"));
  }
  auto size = fields.size("size");
  if (!size) return fail(std::move(size.error()));
  file.size = *size;
  auto sha256 = fields.sha256("sha256");
  if (!sha256) return fail(std::move(sha256.error()));
  file.sha256 = std::move(*sha256);
  auto symlinks = fields.paths("symlinks", true);
  if (!symlinks) return fail(std::move(symlinks.error()));
  file.symlinks = std::move(*symlinks);
  return file;
}

// A file's keys (an entry of "files" may also say its own "group").
constexpr std::string_view kFileKeys[] = {"source", "path", "size", "sha256", "symlinks"};

// The model's files and the names of their path fields for messages.
Result<void> read_files(const json& entry, const Location& at, Model& model,
                        std::vector<std::string>& path_fields) {
  const Fields fields(entry, at);
  if (!fields.has("files")) {
    // The one-file form: the file's keys on the model.
    if (!fields.has("source"))
      return fail(fields.error("files", "missing (or give \"source\" for a one-file model)"));
    json only_file(json::object());
    for (std::string_view key : kFileKeys) {
      if (const json* value = fields.find(key)) only_file[std::string(key)] = *value;
    }
    auto file = read_file(Fields(only_file, at));
    if (!file) return fail(std::move(file.error()));
    model.files.push_back(std::move(*file));
    path_fields.emplace_back("path");
    return {};
  }
  for (std::string_view key : kFileKeys) {
    if (fields.has(key))
      return fail(fields.error(key, "not allowed beside \"files\" (put it in a file entry)"));
  }
  auto files = fields.array("files");
  if (!files) return fail(std::move(files.error()));
  if ((*files)->empty()) return fail(fields.error("files", "empty"));
  for (std::size_t i = 0; i < (*files)->size(); ++i) {
    const json& item = (**files)[i];
    const std::string prefix = "files[" + std::to_string(i) + "]";
    if (!item.is_object())
      return fail(fields.error(prefix, "expected an object, got " + describe(item)));
    auto file = read_file(Fields(item, at, prefix + "."));
    if (!file) return fail(std::move(file.error()));
    model.files.push_back(std::move(*file));
    path_fields.push_back(prefix + ".path");
  }
  return {};
}

Result<void> read_model(const json& entry, std::size_t index, std::string_view label,
                        ManifestBuilder& builder) {
  const Location at(label, entry_where("models", index, peek_string(entry, "name")));
  if (auto object = expect_object(entry, at); !object) return object;
  const Fields fields(entry, at);
  if (auto known = fields.only(
          {"id", "name", "group", "files", "source", "path", "size", "sha256", "symlinks"});
      !known)
    return known;
  Model model;
  auto name = fields.string("name");
  if (!name) return fail(std::move(name.error()));
  model.name = std::move(*name);
  auto group = fields.group("group");
  if (!group) return fail(std::move(group.error()));
  model.group = std::move(*group);
  if (fields.has("id")) {
    auto id = fields.string("id");
    if (!id) return fail(std::move(id.error()));
    model.id = std::move(*id);
  } else {
    model.id = model_id(model.group, model.name);
  }
  std::vector<std::string> path_fields;
  if (auto files = read_files(entry, at, model, path_fields); !files) return files;
  return builder.add(std::move(model), at.where(), std::move(path_fields));
}

}  // namespace

bool is_haul_manifest(const json& doc) { return doc.is_object() && doc.contains("haul_manifest"); }

Result<Manifest> read_haul_manifest(const json& doc, std::string_view label) {
  const Location at(label, "");
  if (!is_haul_manifest(doc))
    return fail(at.error("", "not a haul manifest: expected an object with \"haul_manifest\": 1"));
  const Fields fields(doc, at);
  if (auto known = fields.only({"$schema", "haul_manifest", "name", "models"}); !known)
    return fail(std::move(known.error()));
  const json* version = fields.find("haul_manifest");
  if (version == nullptr || !version->is_number_integer() ||
      version->get<std::int64_t>() != kVersion)
    return fail(fields.error("haul_manifest", "expected " + std::to_string(kVersion) +
                                                  " (the only version so far), got " +
                                                  (version ? describe(*version) : "null")));
  if (auto schema = fields.optional_string("$schema"); !schema)
    return fail(std::move(schema.error()));
  ManifestBuilder builder(ManifestFormat::kHaul, label);
  auto name = fields.optional_string("name");
  if (!name) return fail(std::move(name.error()));
  builder.set_name(name->value_or(""));
  auto models = fields.array("models");
  if (!models) return fail(std::move(models.error()));
  for (std::size_t i = 0; i < (*models)->size(); ++i) {
    if (auto model = read_model((**models)[i], i, label, builder); !model)
      return fail(std::move(model.error()));
  }
  return std::move(builder).finish();
}

}  // namespace haul::models::formats
