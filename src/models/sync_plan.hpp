// What a sync queues: from a manifest's models, their presence and the mode
// (seed 002's all | missing | list | single), one job request per model with
// one file per item, each file placed where the presence check found it (or
// where it would go). Pure: the caller checks presence first and queues the
// requests.
//
// Threading: pure functions; safe from any thread.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "core/job_request.hpp"
#include "models/model.hpp"
#include "models/presence.hpp"

namespace haul::models {

enum class SyncMode {
  kAll,      // every model; files already present are not fetched again
  kMissing,  // models with a file missing, partial or corrupt
  kList,     // the models a JSON array names (names, ids or entries)
  kSingle,   // the model one JSON object names
};

// "all", "missing", "list", "single"; nullopt for anything else.
std::optional<SyncMode> parse_sync_mode(std::string_view name);
std::string_view sync_mode_name(SyncMode mode);

// The models a list or single selection names, from `manifest`: a JSON
// array (list) or object (single) of model names or ids (strings), or of
// entries in any manifest format (objects: seed 002's {directoryGroup,
// modelName, ...}, or haul manifest models), which are read as a manifest of
// their own. For all and missing, every model. Errors: kInvalidArgument, one
// line naming the selection and what was wrong ("models[1]: no model named
// 'x' in the manifest").
Result<std::vector<Model>> select_models(const Manifest& manifest, SyncMode mode,
                                         std::string_view selection_json);

struct SyncSkip {
  std::string model_id;
  std::string reason;  // "present", "already downloading", "file 0: no source known"
};

struct SyncPlan {
  std::vector<core::JobRequest> requests;  // one per model to queue, in manifest order
  std::vector<SyncSkip> skipped;
};

struct SyncContext {
  std::string target = "local";  // "local" or an instance id
  std::string manifest;          // label: the manifest's id
  // Files live jobs write (absolute paths): a model with one of them is not
  // queued again.
  std::set<std::string> live_paths;
  // Directories symlinks relative to a root are made in (the models roots),
  // longest match first is used.
  std::vector<std::string> roots;
};

// `checks` are in the order of `models` (check_models' answer). Files
// without a source that are not present make their model skipped.
SyncPlan plan_sync(const std::vector<Model>& models, const std::vector<ModelCheck>& checks,
                   SyncMode mode, const SyncContext& context);

}  // namespace haul::models
