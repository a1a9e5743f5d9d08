// Sync planning: see sync_plan.hpp.
#include "models/sync_plan.hpp"

#include <nlohmann/json.hpp>

#include "models/manifest.hpp"

namespace haul::models {
namespace {

using nlohmann::json;

// The root `path` is in (the longest that holds it), else the first root.
std::string root_of(const std::string& path, const std::vector<std::string>& roots) {
  std::string best;
  for (const std::string& root : roots) {
    const bool holds = path.size() > root.size() && path.starts_with(root) &&
                       (root.ends_with('/') || path[root.size()] == '/');
    if (holds && root.size() > best.size()) best = root;
  }
  if (best.empty() && !roots.empty()) best = roots.front();
  return best;
}

std::string absolute_link(const std::string& link, const std::string& root) {
  if (link.starts_with('/') || root.empty()) return link;
  return root.ends_with('/') ? root + link : root + "/" + link;
}

Result<Model> find_named(const Manifest& manifest, const std::string& name, std::size_t index) {
  for (const Model& model : manifest.models) {
    if (model.id == name || model.name == name) return model;
  }
  return fail(ErrorCode::kInvalidArgument, "models[" + std::to_string(index) +
                                               "]: no model named '" + name.substr(0, 200) +
                                               "' in the manifest");
}

// Entries of another manifest given inline: read as a manifest of their own.
Result<std::vector<Model>> read_entries(const json& entries) {
  auto manifest = read_manifest(entries.dump(), "models");
  if (!manifest) return fail(manifest.error());
  return std::move(manifest->models);
}

}  // namespace

std::optional<SyncMode> parse_sync_mode(std::string_view name) {
  if (name == "all") return SyncMode::kAll;
  if (name == "missing") return SyncMode::kMissing;
  if (name == "list") return SyncMode::kList;
  if (name == "single") return SyncMode::kSingle;
  return std::nullopt;
}

std::string_view sync_mode_name(SyncMode mode) {
  switch (mode) {
    case SyncMode::kAll:
      return "all";
    case SyncMode::kMissing:
      return "missing";
    case SyncMode::kList:
      return "list";
    case SyncMode::kSingle:
      return "single";
  }
  return "all";
}

Result<std::vector<Model>> select_models(const Manifest& manifest, SyncMode mode,
                                         std::string_view selection_json) {
  if (mode == SyncMode::kAll || mode == SyncMode::kMissing) return manifest.models;
  const json selection = json::parse(selection_json, nullptr, false);
  if (selection.is_discarded()) return fail(ErrorCode::kInvalidArgument, "models: not JSON");
  if (mode == SyncMode::kList && !selection.is_array())
    return fail(ErrorCode::kInvalidArgument, "models: list mode takes a JSON array");
  if (mode == SyncMode::kSingle && !selection.is_object() && !selection.is_string())
    return fail(ErrorCode::kInvalidArgument, "models: single mode takes one JSON object");
  const json list = selection.is_array() ? selection : json::array({selection});
  if (list.empty()) return fail(ErrorCode::kInvalidArgument, "models: the list is empty");
  std::vector<Model> chosen;
  json entries = json::array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json& entry = list[i];
    if (entry.is_string()) {
      auto model = find_named(manifest, entry.get<std::string>(), i);
      if (!model) return fail(model.error());
      chosen.push_back(std::move(*model));
    } else if (entry.is_object()) {
      entries.push_back(entry);
    } else {
      return fail(ErrorCode::kInvalidArgument,
                  "models[" + std::to_string(i) + "]: expected a name or an entry object");
    }
  }
  if (!entries.empty()) {
    auto read = read_entries(entries);
    if (!read) return fail(read.error());
    for (Model& model : *read) chosen.push_back(std::move(model));
  }
  return chosen;
}

SyncPlan plan_sync(const std::vector<Model>& models, const std::vector<ModelCheck>& checks,
                   SyncMode mode, const SyncContext& context) {
  SyncPlan plan;
  for (std::size_t m = 0; m < models.size() && m < checks.size(); ++m) {
    const Model& model = models[m];
    const ModelCheck& check = checks[m];
    if (mode == SyncMode::kMissing && check.state == Presence::kPresent) {
      plan.skipped.push_back({model.id, "present"});
      continue;
    }
    core::JobRequest request;
    request.target = context.target;
    request.group = model.group;
    request.name = model.name;
    request.labels["model"] = model.id;
    if (!context.manifest.empty()) request.labels["manifest"] = context.manifest;
    std::string skip;
    for (std::size_t f = 0; f < model.files.size() && f < check.files.size() && skip.empty(); ++f) {
      const ModelFile& file = model.files[f];
      const FileCheck& found = check.files[f];
      const bool present = found.state == Presence::kPresent;
      if (context.live_paths.count(found.path) != 0) {
        skip = "already downloading";
      } else if (file.source.empty() && !present) {
        skip = "file " + std::to_string(f) + " (" + file.path + "): no source known";
      } else if (found.path.empty()) {
        skip = "file " + std::to_string(f) + " (" + file.path + "): no folder for its group";
      }
      // A file present but of no known source stays out: there is nothing
      // to fetch and no source to name it by.
      if (file.source.empty() && present && skip.empty()) continue;
      core::FileSpec spec;
      spec.path = found.path;
      spec.size = file.size;
      if (present && !spec.size) spec.size = found.size_on_disk;
      if (!file.sha256.empty()) spec.sha256 = file.sha256;
      spec.present = present;
      const std::string root = root_of(found.path, context.roots);
      for (const std::string& link : file.symlinks) spec.links.push_back(absolute_link(link, root));
      request.sources.push_back(file.source);
      request.files.push_back(std::move(spec));
    }
    if (skip.empty() && request.files.empty()) skip = "present";
    if (!skip.empty()) {
      plan.skipped.push_back({model.id, skip});
      continue;
    }
    plan.requests.push_back(std::move(request));
  }
  return plan;
}

}  // namespace haul::models
