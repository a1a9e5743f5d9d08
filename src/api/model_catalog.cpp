// The daemon's models: see model_catalog.hpp.
#include "api/model_catalog.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <unordered_map>

#include "models/manifest.hpp"
#include "models/remote_presence.hpp"
#include "remote/remote_runner.hpp"
#include "store/db_worker.hpp"

namespace haul::api {

namespace asio = boost::asio;

std::optional<std::string> manifest_id_from_name(const std::string& name) {
  std::string base = std::filesystem::path(name).filename().string();
  if (const std::size_t dot = base.rfind('.'); dot != std::string::npos && dot > 0)
    base = base.substr(0, dot);
  std::string id;
  for (char c : base) {
    const bool keep =
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    id += keep ? c : '-';
  }
  if (id.empty() || id.size() > 128 || id.find_first_not_of("-.") == std::string::npos)
    return std::nullopt;
  return id;
}

ModelCatalog::ModelCatalog(asio::any_io_executor control, store::DbWorker& db,
                           scheduler::Scheduler& scheduler, scheduler::EventBus& bus,
                           models::ModelFolders folders, std::filesystem::path hash_cache_file,
                           remote::SessionOptions ssh)
    : control_(std::move(control)),
      db_(db),
      scheduler_(scheduler),
      bus_(bus),
      folders_(std::move(folders)),
      cache_(std::make_shared<models::HashCache>()),
      cache_file_(std::move(hash_cache_file)),
      ssh_(std::move(ssh)) {
  // Loaded on the worker: the file may be large; checks queue behind it.
  asio::post(worker_, [cache = cache_, file = cache_file_] { cache->load(file); });
  bus_handle_ = bus_.subscribe([this](const core::Event& event) {
    if (event.type == core::EventType::kProgress) return;
    job_changed(event.job);
  });
}

ModelCatalog::~ModelCatalog() {
  bus_.unsubscribe(bus_handle_);
  *alive_ = false;
  worker_.join();
  remote_worker_.join();
}

void ModelCatalog::load(const std::vector<store::StoredManifest>& stored) {
  std::erase_if(manifests_, [&stored](const auto& entry) {
    return std::none_of(stored.begin(), stored.end(), [&entry](const store::StoredManifest& kept) {
      return kept.id == entry.first;
    });
  });
  for (const store::StoredManifest& entry : stored) {
    auto registered = std::make_unique<RegisteredManifest>();
    registered->stored = entry;
    auto manifest = models::read_manifest(entry.content, entry.name);
    if (manifest) {
      registered->manifest = std::move(*manifest);
    } else {
      spdlog::warn("manifest {}: {}", entry.id, manifest.error().message);
    }
    manifests_[entry.id] = std::move(registered);
  }
}

void ModelCatalog::add(const std::string& name, std::string origin, std::string content,
                       std::function<void(Result<const RegisteredManifest*>)> done) {
  const auto id = manifest_id_from_name(name);
  if (!id) {
    return done(fail(ErrorCode::kInvalidArgument,
                     "manifest name '" + name.substr(0, 200) + "' gives no usable id"));
  }
  auto manifest = models::read_manifest(content, name);
  if (!manifest) return done(fail(manifest.error()));
  auto registered = std::make_unique<RegisteredManifest>();
  const auto now = core::Clock::now();
  registered->stored = {*id, name, std::move(origin), std::move(content), now, now};
  if (auto earlier = manifests_.find(*id); earlier != manifests_.end())
    registered->stored.created_at = earlier->second->stored.created_at;
  registered->manifest = std::move(*manifest);
  store::WriteBatch batch;
  batch.manifest_upserts.push_back(registered->stored);
  db_.write(std::move(batch),
            [this, alive = alive_,
             registered = std::shared_ptr<RegisteredManifest>(std::move(registered)),
             done = std::move(done)](Result<void> written) mutable {
              if (!*alive) return;
              if (!written) return done(fail(written.error()));
              auto& slot = manifests_[registered->stored.id];
              slot = std::make_unique<RegisteredManifest>(std::move(*registered));
              done(slot.get());
            });
}

void ModelCatalog::remove(const std::string& id, std::function<void(Result<void>)> done) {
  if (manifests_.count(id) == 0)
    return done(fail(ErrorCode::kNotFound, "no manifest '" + id + "'"));
  store::WriteBatch batch;
  batch.manifest_deletes.push_back(id);
  db_.write(std::move(batch), [this, alive = alive_, id, done = std::move(done)](Result<void> ok) {
    if (!*alive) return;
    if (!ok) return done(fail(ok.error()));
    manifests_.erase(id);
    done({});
  });
}

const RegisteredManifest* ModelCatalog::find(const std::string& id) const {
  auto it = manifests_.find(id);
  return it == manifests_.end() ? nullptr : it->second.get();
}

std::vector<const RegisteredManifest*> ModelCatalog::list() const {
  std::vector<const RegisteredManifest*> out;
  for (const auto& [id, registered] : manifests_) out.push_back(registered.get());
  return out;
}

void ModelCatalog::check(std::string manifest_id, std::vector<models::Model> models, bool verify,
                         std::function<void(std::vector<ModelView>)> done) {
  auto owned = std::make_shared<std::vector<models::Model>>(std::move(models));
  asio::post(worker_, [this, alive = alive_, owned, verify, manifest_id = std::move(manifest_id),
                       done = std::move(done)]() mutable {
    const models::PresenceChecker checker(folders_, cache_.get());
    const std::uint64_t version = cache_->version();
    auto checks =
        std::make_shared<std::vector<models::ModelCheck>>(checker.check_models(*owned, verify));
    if (cache_->version() != version) {
      if (auto saved = cache_->save(cache_file_); !saved)
        spdlog::warn("hash cache {}: {}", cache_file_.string(), saved.error().message);
    }
    asio::post(control_, [this, alive, owned, checks, manifest_id = std::move(manifest_id),
                          done = std::move(done)] {
      if (!*alive) return;
      done(views_of(manifest_id, std::move(*owned), std::move(*checks)));
    });
  });
}

std::vector<ModelView> ModelCatalog::views_of(const std::string& manifest_id,
                                              std::vector<models::Model> models,
                                              std::vector<models::ModelCheck> checks) const {
  std::vector<ModelView> views;
  for (std::size_t i = 0; i < models.size() && i < checks.size(); ++i) {
    ModelView view;
    view.manifest = manifest_id;
    view.model = std::move(models[i]);
    view.check = std::move(checks[i]);
    views.push_back(std::move(view));
  }
  overlay_jobs(views);
  return views;
}

std::string ModelCatalog::remote_models_dir(const core::Instance& instance) {
  const std::string home = instance.ui_home.empty() ? core::kDefaultUiHome : instance.ui_home;
  return (home.ends_with('/') ? home : home + "/") + "models";
}

void ModelCatalog::check_remote(const core::Instance& instance, std::string manifest_id,
                                std::vector<models::Model> models, bool verify,
                                std::function<void(Result<std::vector<ModelView>>)> done) {
  // Where each file may be there: its group's folders under UI_HOME/models.
  const std::string base = remote_models_dir(instance);
  auto queries = std::make_shared<std::vector<models::RemoteFileQuery>>();
  for (const models::Model& model : models) {
    for (const models::ModelFile& file : model.files) {
      models::RemoteFileQuery query;
      if (file.path.starts_with('/')) {
        query.candidates.push_back(file.path);
      } else {
        const std::string group = models::canonical_group(models::group_of(model, file));
        for (const std::string& dir : models::group_dirs(group))
          query.candidates.push_back(base + "/" + dir + "/" + file.path);
      }
      query.size = file.size;
      query.sha256 = file.sha256;
      queries->push_back(std::move(query));
    }
  }
  auto owned = std::make_shared<std::vector<models::Model>>(std::move(models));
  asio::post(remote_worker_, [this, alive = alive_, ssh_command = instance.ssh_command, queries,
                              owned, verify, manifest_id = std::move(manifest_id),
                              done = std::move(done)]() mutable {
    auto checked = [&]() -> Result<std::vector<models::FileCheck>> {
      auto endpoint = remote::endpoint_from_command(ssh_command);
      if (!endpoint) return fail(endpoint.error());
      auto session = remote::SshSession::connect(*endpoint, ssh_);
      if (!session) return fail(session.error());
      remote::CommandSpec spec;
      spec.command = models::presence_script(*queries, verify);
      spec.timeout = std::chrono::minutes(verify ? 60 : 2);
      std::string output;
      const std::atomic<bool> never{false};
      auto ran = (*session)->run(
          spec,
          [&](std::string_view chunk, bool is_stderr) {
            if (!is_stderr) output.append(chunk);
          },
          never);
      if (!ran) return fail(ran.error());
      return models::parse_presence_output(output, *queries);
    }();
    asio::post(control_, [this, alive, owned, checked = std::move(checked),
                          manifest_id = std::move(manifest_id), done = std::move(done)]() mutable {
      if (!*alive) return;
      if (!checked) return done(fail(checked.error()));
      std::vector<models::ModelCheck> checks;
      std::size_t next = 0;
      for (const models::Model& model : *owned) {
        models::ModelCheck check;
        check.id = model.id;
        for (std::size_t f = 0; f < model.files.size() && next < checked->size(); ++f)
          check.files.push_back(std::move((*checked)[next++]));
        check.state = models::model_presence(check.files);
        checks.push_back(std::move(check));
      }
      done(views_of(manifest_id, std::move(*owned), std::move(checks)));
    });
  });
}

void ModelCatalog::overlay_jobs(std::vector<ModelView>& views) const {
  struct Writer {
    const core::Job* job;
    const core::Item* item;
  };
  std::unordered_map<std::string, Writer> writers;
  for (const core::Job* job : scheduler_.list()) {
    if (core::is_finished(job->state)) continue;
    for (const core::Item& item : job->items) {
      if (!item.path.empty() && item.state != core::ItemState::kCompleted)
        writers[item.path] = {job, &item};
    }
  }
  for (ModelView& view : views) {
    std::vector<models::Presence> states;
    for (models::FileCheck& file : view.check.files) {
      if (auto it = writers.find(file.path); it != writers.end()) {
        file.state = models::Presence::kDownloading;
        file.bytes_done = it->second.item->bytes_done;
        view.job_id = it->second.job->id;
      }
      states.push_back(file.state);
    }
    view.check.state = models::combine_presence(states);
  }
}

std::vector<std::string> ModelCatalog::live_paths(const std::string& target) const {
  std::vector<std::string> paths;
  for (const core::Job* job : scheduler_.list()) {
    if (core::is_finished(job->state) || job->target != target) continue;
    for (const core::Item& item : job->items) {
      if (!item.path.empty()) paths.push_back(item.path);
    }
  }
  return paths;
}

void ModelCatalog::job_changed(const core::Job& job) {
  const auto model_label = job.labels->find("model");
  const auto manifest_label = job.labels->find("manifest");
  if (model_label == job.labels->end() || manifest_label == job.labels->end() || !changed_) return;
  const RegisteredManifest* registered = find(manifest_label->second);
  if (registered == nullptr) return;
  for (const models::Model& model : registered->manifest.models) {
    if (model.id != model_label->second) continue;
    const std::string key = manifest_label->second + '\t' + model.id;
    check(manifest_label->second, {model}, false, [this, key](std::vector<ModelView> views) {
      if (views.empty()) return;
      auto [it, fresh] = last_state_.try_emplace(key, views.front().check.state);
      if (!fresh && it->second == views.front().check.state) return;
      it->second = views.front().check.state;
      changed_(views.front().manifest, views.front());
    });
    return;
  }
}

}  // namespace haul::api
