// A ComfyUI workflow as a manifest.
//
// UI format (what the editor saves): every node's properties.models and the
// top-level "models" list give {name, url, directory[, hash, hash_type]}: a
// model with a source. Loader nodes name their files in widgets_values; a
// file no models entry names becomes a model without a source and a notice
// (presence can still find it). Nodes of subgraphs
// (definitions.subgraphs[].nodes) count; muted (mode 2) and bypassed
// (mode 4) nodes do not.
//
// API format (what /prompt takes): {"3": {"class_type": ..., "inputs": {...}}}
// has no URLs; the loaders' file inputs become models without a source.
//
// The same file named twice (a node and the top-level list, two loaders) is
// one model.
#include <algorithm>
#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "base/text.hpp"
#include "models/formats/fields.hpp"
#include "models/formats/formats.hpp"
#include "models/formats/manifest_builder.hpp"

namespace haul::models::formats {
namespace {

using nlohmann::json;

struct Loader {
  std::string_view type;
  std::string_view folder;
  // The inputs that name files; input i is also widgets_values[i].
  std::array<std::string_view, 4> inputs;
};

constexpr Loader kLoaders[] = {
    {"CheckpointLoaderSimple", "checkpoints", {"ckpt_name"}},
    {"ImageOnlyCheckpointLoader", "checkpoints", {"ckpt_name"}},
    {"LoraLoader", "loras", {"lora_name"}},
    {"LoraLoaderModelOnly", "loras", {"lora_name"}},
    {"VAELoader", "vae", {"vae_name"}},
    {"CLIPLoader", "text_encoders", {"clip_name"}},
    {"DualCLIPLoader", "text_encoders", {"clip_name1", "clip_name2"}},
    {"TripleCLIPLoader", "text_encoders", {"clip_name1", "clip_name2", "clip_name3"}},
    {"QuadrupleCLIPLoader",
     "text_encoders",
     {"clip_name1", "clip_name2", "clip_name3", "clip_name4"}},
    {"UNETLoader", "diffusion_models", {"unet_name"}},
    {"UnetLoaderGGUF", "diffusion_models", {"unet_name"}},
    {"CLIPLoaderGGUF", "text_encoders", {"clip_name"}},
    {"DualCLIPLoaderGGUF", "text_encoders", {"clip_name1", "clip_name2"}},
    {"TripleCLIPLoaderGGUF", "text_encoders", {"clip_name1", "clip_name2", "clip_name3"}},
    {"CLIPVisionLoader", "clip_vision", {"clip_name"}},
    {"ControlNetLoader", "controlnet", {"control_net_name"}},
    {"DiffControlNetLoader", "controlnet", {"control_net_name"}},
    {"UpscaleModelLoader", "upscale_models", {"model_name"}},
    {"StyleModelLoader", "style_models", {"style_model_name"}},
};

// API-format inputs of node types not in kLoaders (custom loaders often
// reuse the core input names). "model_name" is too generic to guess from.
constexpr std::pair<std::string_view, std::string_view> kInputFolders[] = {
    {"ckpt_name", "checkpoints"},
    {"lora_name", "loras"},
    {"vae_name", "vae"},
    {"clip_name", "text_encoders"},
    {"clip_name1", "text_encoders"},
    {"clip_name2", "text_encoders"},
    {"clip_name3", "text_encoders"},
    {"unet_name", "diffusion_models"},
    {"control_net_name", "controlnet"},
    {"style_model_name", "style_models"},
};

const Loader* find_loader(std::string_view type) {
  for (const Loader& loader : kLoaders) {
    if (loader.type == type) return &loader;
  }
  return nullptr;
}

// "7" for 7, the text of a string id.
std::string node_id(const json& node) {
  const auto it = node.find("id");
  if (it == node.end()) return "?";
  if (it->is_number()) return it->dump();
  return it->is_string() ? printable(it->get_ref<const std::string&>()) : "?";
}

// "node 7 (CheckpointLoaderSimple)".
std::string node_where(std::string_view scope, std::string_view id, std::string_view type) {
  std::string out(scope);
  out.append("node ").append(id);
  if (!type.empty()) out.append(" (").append(type).append(")");
  return out;
}

// A file a loader names, before it is matched with the models lists.
struct LoaderFile {
  std::string group;
  std::string path;
  std::string where;
  std::string field;
};

class WorkflowReader {
 public:
  explicit WorkflowReader(std::string_view label) : label_(label) {}

  // A {name, url, directory} entry of properties.models or of "models".
  Result<void> read_entry(const json& entry, const Location& at, const std::string& prefix) {
    if (!entry.is_object()) {
      std::string field = prefix;  // "properties.models[0]." names the entry itself without '.'
      if (!field.empty()) field.pop_back();
      return fail(at.error(field, "expected an object, got " + describe(entry)));
    }
    const Fields fields(entry, at, prefix);
    Model model;
    auto name = fields.string("name");
    if (!name) return fail(std::move(name.error()));
    if (auto problem = path_problem(*name, false); !problem.empty())
      return fail(fields.error("name", problem));
    auto group = fields.group("directory");
    if (!group) return fail(std::move(group.error()));
    ModelFile file;
    auto url = fields.source("url", true);
    if (!url) return fail(std::move(url.error()));
    file.source = std::move(*url);
    auto hash_type = fields.optional_string("hash_type");
    if (!hash_type) return fail(std::move(hash_type.error()));
    if (iequals(hash_type->value_or(""), "sha256")) {
      auto sha256 = fields.sha256("hash");
      if (!sha256) return fail(std::move(sha256.error()));
      file.sha256 = std::move(*sha256);
    }
    file.path = *name;
    named_.insert(*name);
    model.id = model_id(*group, *name);
    model.name = std::move(*name);
    model.group = std::move(*group);
    model.files.push_back(std::move(file));
    merge(std::move(model), at.where(), fields.field("name"));
    return {};
  }

  // A file named by a loader node's widget or input.
  Result<void> loader_file(std::string path, std::string_view folder, const Location& at,
                           std::string field) {
    // Widget values are paths as the machine that saved the workflow lists
    // them: "SDXL\\juggernaut.safetensors" on Windows.
    std::replace(path.begin(), path.end(), '\\', '/');
    if (auto problem = path_problem(path, false); !problem.empty())
      return fail(at.error(field, problem));
    loader_files_.push_back({std::string(folder), std::move(path), at.where(), std::move(field)});
    return {};
  }

  Result<Manifest> finish() && {
    for (LoaderFile& file : loader_files_) {
      if (named_.count(file.path) > 0 || index_.count({file.group, file.path}) > 0) continue;
      builder_.notice(file.where, file.path + ": no source known");
      Model model;
      model.id = model_id(file.group, file.path);
      model.name = file.path;
      model.group = file.group;
      ModelFile unsourced;
      unsourced.path = file.path;
      model.files.push_back(std::move(unsourced));
      merge(std::move(model), file.where, file.field);
    }
    for (Found& found : found_) {
      if (auto added = builder_.add(std::move(found.model), found.where, {found.path_field});
          !added)
        return fail(std::move(added.error()));
    }
    return std::move(builder_).finish();
  }

 private:
  struct Found {
    Model model;
    std::string where;
    std::string path_field;
  };

  // One model per (group, path): a later mention fills in what the first lacked.
  void merge(Model model, std::string where, std::string path_field) {
    const auto key = std::make_pair(model.group, model.files[0].path);
    const auto [it, inserted] = index_.try_emplace(key, found_.size());
    if (inserted) {
      found_.push_back({std::move(model), std::move(where), std::move(path_field)});
      return;
    }
    ModelFile& kept = found_[it->second].model.files[0];
    const ModelFile& other = model.files[0];
    if (kept.sha256.empty()) kept.sha256 = other.sha256;
    if (kept.source.empty()) {
      kept.source = other.source;
    } else if (!other.source.empty() && other.source != kept.source) {
      builder_.notice(where, other.path + ": another URL than " + found_[it->second].where +
                                 " gives; the first one is used");
    }
  }

  std::string label_;
  ManifestBuilder builder_{ManifestFormat::kComfyUiWorkflow, label_};
  std::vector<Found> found_;
  std::map<std::pair<std::string, std::string>, std::size_t> index_;
  std::set<std::string, std::less<>> named_;  // names of the models entries
  std::vector<LoaderFile> loader_files_;
};

bool is_muted(const json& node) {
  const auto mode = node.find("mode");
  return mode != node.end() && mode->is_number_integer() &&
         (mode->get<std::int64_t>() == 2 || mode->get<std::int64_t>() == 4);
}

// One UI-format node: its properties.models, and the files a loader names.
Result<void> read_ui_node(const json& node, std::string_view scope, std::string_view label,
                          WorkflowReader& reader) {
  const std::string type = peek_string(node, "type");
  const Location at(label, node_where(scope, node_id(node), type));
  if (auto object = expect_object(node, at); !object) return object;
  if (is_muted(node)) return {};
  const Fields fields(node, at);
  if (const json* properties = fields.find("properties"); properties && properties->is_object()) {
    if (const auto models = properties->find("models"); models != properties->end()) {
      if (!models->is_array())
        return fail(at.error("properties.models", "expected an array, got " + describe(*models)));
      for (std::size_t i = 0; i < models->size(); ++i) {
        const std::string prefix = "properties.models[" + std::to_string(i) + "].";
        if (auto read = reader.read_entry((*models)[i], at, prefix); !read) return read;
      }
    }
  }
  const Loader* loader = find_loader(type);
  const json* widgets = fields.find("widgets_values");
  if (loader == nullptr || widgets == nullptr || !widgets->is_array()) return {};
  for (std::size_t i = 0; i < loader->inputs.size() && i < widgets->size(); ++i) {
    const json& value = (*widgets)[i];
    if (loader->inputs[i].empty() || !value.is_string() ||
        value.get_ref<const std::string&>().empty())
      continue;
    if (auto file = reader.loader_file(value.get<std::string>(), loader->folder, at,
                                       "widgets_values[" + std::to_string(i) + "]");
        !file)
      return file;
  }
  return {};
}

Result<void> read_nodes(const json& nodes, std::string_view scope, std::string_view label,
                        WorkflowReader& reader) {
  if (!nodes.is_array()) return {};
  for (const json& node : nodes) {
    if (auto read = read_ui_node(node, scope, label, reader); !read) return read;
  }
  return {};
}

Result<Manifest> read_ui_format(const json& doc, std::string_view label) {
  WorkflowReader reader(label);
  if (auto read = read_nodes(*doc.find("nodes"), "", label, reader); !read)
    return fail(read.error());
  if (const auto definitions = doc.find("definitions");
      definitions != doc.end() && definitions->is_object()) {
    const auto subgraphs = definitions->find("subgraphs");
    if (subgraphs != definitions->end() && subgraphs->is_array()) {
      for (std::size_t i = 0; i < subgraphs->size(); ++i) {
        const json& subgraph = (*subgraphs)[i];
        if (!subgraph.is_object()) continue;
        const std::string name = peek_string(subgraph, "name");
        const std::string scope = (name.empty() ? "definitions.subgraphs[" + std::to_string(i) + "]"
                                                : "subgraph " + in_quotes(name)) +
                                  " ";
        const auto nodes = subgraph.find("nodes");
        if (nodes == subgraph.end()) continue;
        if (auto read = read_nodes(*nodes, scope, label, reader); !read) return fail(read.error());
      }
    }
  }
  if (const auto models = doc.find("models"); models != doc.end()) {
    const Location top(label, "");
    if (!models->is_array())
      return fail(top.error("models", "expected an array, got " + describe(*models)));
    for (std::size_t i = 0; i < models->size(); ++i) {
      const json& entry = (*models)[i];
      const Location at(label, entry_where("models", i, peek_string(entry, "name")));
      if (auto read = reader.read_entry(entry, at, ""); !read) return fail(read.error());
    }
  }
  return std::move(reader).finish();
}

bool is_ui_format(const json& doc) {
  if (!doc.is_object()) return false;
  const auto nodes = doc.find("nodes");
  return nodes != doc.end() && nodes->is_array();
}

bool is_api_format(const json& doc) {
  if (!doc.is_object() || doc.empty()) return false;
  return std::all_of(doc.begin(), doc.end(), [](const json& node) {
    return node.is_object() && node.contains("class_type");
  });
}

// Node ids in numeric order ("3" before "10"), others after them by text.
std::vector<std::string> api_node_ids(const json& doc) {
  std::vector<std::string> ids;
  for (const auto& [id, node] : doc.items()) ids.push_back(id);
  const auto numeric = [](const std::string& id) {
    return !id.empty() &&
           std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  std::stable_sort(ids.begin(), ids.end(), [&](const std::string& a, const std::string& b) {
    if (numeric(a) != numeric(b)) return numeric(a);
    if (numeric(a) && a.size() != b.size()) return a.size() < b.size();
    return a < b;
  });
  return ids;
}

Result<Manifest> read_api_format(const json& doc, std::string_view label) {
  WorkflowReader reader(label);
  for (const std::string& id : api_node_ids(doc)) {
    const json& node = doc[id];
    const std::string type = peek_string(node, "class_type");
    const Location at(label, node_where("", printable(id), type));
    const auto inputs = node.find("inputs");
    if (inputs == node.end() || !inputs->is_object()) continue;
    for (const auto& [input, value] : inputs->items()) {
      if (!value.is_string() || value.get_ref<const std::string&>().empty()) continue;
      std::string_view folder;
      if (const Loader* loader = find_loader(type)) {
        if (std::find(loader->inputs.begin(), loader->inputs.end(), input) != loader->inputs.end())
          folder = loader->folder;
      } else {
        for (const auto& [name, input_folder] : kInputFolders) {
          if (name == input) folder = input_folder;
        }
      }
      if (folder.empty()) continue;
      if (auto file = reader.loader_file(value.get<std::string>(), folder, at,
                                         "inputs." + printable(input));
          !file)
        return fail(file.error());
    }
  }
  return std::move(reader).finish();
}

}  // namespace

bool is_comfyui_workflow(const json& doc) { return is_ui_format(doc) || is_api_format(doc); }

Result<Manifest> read_comfyui_workflow(const json& doc, std::string_view label) {
  if (is_ui_format(doc)) return read_ui_format(doc, label);
  if (is_api_format(doc)) return read_api_format(doc, label);
  return fail(Location(label, "").error(
      "",
      "not a ComfyUI workflow: expected an object with a \"nodes\" array (UI format) or "
      "of nodes with a \"class_type\" (API format)"));
}

}  // namespace haul::models::formats
