// The daemon's models: the manifests registered with it (kept in the store
// across restarts), where model files live (models roots, a ComfyUI install
// and its extra_model_paths.yaml), presence checks on a worker thread with
// the hash cache, live progress laid over presence from the queue's jobs,
// and the `model` event when a model's presence changes.
//
// Threading: the catalog belongs to the control thread; check() runs the
// disk work on the catalog's own worker thread and answers on the control
// thread. The hash cache is saved by the worker after verifications.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "core/instance.hpp"
#include "models/folders.hpp"
#include "models/hash_cache.hpp"
#include "models/model.hpp"
#include "models/presence.hpp"
#include "remote/ssh_session.hpp"
#include "scheduler/event_bus.hpp"
#include "scheduler/scheduler.hpp"
#include "store/job_store.hpp"

namespace haul::store {
class DbWorker;
}

namespace haul::api {

struct RegisteredManifest {
  store::StoredManifest stored;
  models::Manifest manifest;
};

// One model as the API shows it: its manifest, its presence with live
// progress laid over it.
struct ModelView {
  std::string manifest;  // the manifest's id
  models::Model model;
  models::ModelCheck check;
  std::optional<std::string> job_id;  // the live (or last) job that fetches it
};

class ModelCatalog {
 public:
  ModelCatalog(boost::asio::any_io_executor control, store::DbWorker& db,
               scheduler::Scheduler& scheduler, scheduler::EventBus& bus,
               models::ModelFolders folders, std::filesystem::path hash_cache_file,
               remote::SessionOptions ssh = {});
  ~ModelCatalog();
  ModelCatalog(const ModelCatalog&) = delete;
  ModelCatalog& operator=(const ModelCatalog&) = delete;

  // At start, and again when another node sharing the queue changed them:
  // the stored manifests, in place of those loaded before (one that no
  // longer reads is logged and kept, without models).
  void load(const std::vector<store::StoredManifest>& stored);

  // Reads and registers a manifest (replacing one of the same id); persisted
  // before `done`. `name` gives the id (its letters, digits, '.', '_', '-').
  // Errors: kInvalidArgument (the reader's one line, or a bad name).
  void add(const std::string& name, std::string origin, std::string content,
           std::function<void(Result<const RegisteredManifest*>)> done);
  // Errors: kNotFound.
  void remove(const std::string& id, std::function<void(Result<void>)> done);

  const RegisteredManifest* find(const std::string& id) const;
  std::vector<const RegisteredManifest*> list() const;

  // Presence of `models` (of manifest `manifest_id`, "" for inline ones),
  // checked on the worker, then live jobs laid over it.
  void check(std::string manifest_id, std::vector<models::Model> models, bool verify,
             std::function<void(std::vector<ModelView>)> done);

  // Presence on an instance: one batched POSIX sh script over SSH (on a
  // worker of its own), each file looked for in UI_HOME/models/<its group's
  // folders>. Errors: the connection's, or kProtocol for output cut short.
  void check_remote(const core::Instance& instance, std::string manifest_id,
                    std::vector<models::Model> models, bool verify,
                    std::function<void(Result<std::vector<ModelView>>)> done);

  // The folder an instance's models live in: UI_HOME/models.
  static std::string remote_models_dir(const core::Instance& instance);

  // Every file path a live job for `target` writes (a sync does not queue
  // those again).
  std::vector<std::string> live_paths(const std::string& target) const;

  const models::ModelFolders& folders() const { return folders_; }

  // Called with {"id", "manifest", "state", "files": [...]} when a model's
  // presence changes (a job of it started, finished or failed).
  void on_model_change(std::function<void(const std::string& manifest, const ModelView&)> f) {
    changed_ = std::move(f);
  }

 private:
  // Marks files live jobs write as downloading (with their bytes done).
  void overlay_jobs(std::vector<ModelView>& views) const;
  std::vector<ModelView> views_of(const std::string& manifest_id, std::vector<models::Model> models,
                                  std::vector<models::ModelCheck> checks) const;
  void job_changed(const core::Job& job);

  boost::asio::any_io_executor control_;
  store::DbWorker& db_;
  scheduler::Scheduler& scheduler_;
  scheduler::EventBus& bus_;
  models::ModelFolders folders_;
  std::shared_ptr<models::HashCache> cache_;
  std::filesystem::path cache_file_;
  std::map<std::string, std::unique_ptr<RegisteredManifest>> manifests_;
  std::map<std::string, models::Presence> last_state_;  // "manifest\tmodel" -> state
  std::function<void(const std::string&, const ModelView&)> changed_;
  std::uint64_t bus_handle_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  remote::SessionOptions ssh_;
  boost::asio::thread_pool worker_{1};
  boost::asio::thread_pool remote_worker_{2};  // SSH round trips, apart from disk checks
};

// The `model` event's data and the models routes' JSON of one model:
// {id, modelId, name, group, manifest, state, allPresent, files: [...], job_id}.
nlohmann::json model_event(const ModelView& view);

// A manifest id from a name: "models/flux.json" -> "flux"; nullopt when
// nothing usable is left.
std::optional<std::string> manifest_id_from_name(const std::string& name);

}  // namespace haul::api
