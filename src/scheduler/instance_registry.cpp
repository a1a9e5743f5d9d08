#include "scheduler/instance_registry.hpp"

#include <spdlog/spdlog.h>

namespace haul::scheduler {

InstanceRegistry::InstanceRegistry(store::DbWorker& db, Clock& clock, Check check, Busy busy)
    : db_(db), clock_(clock), check_(std::move(check)), busy_(std::move(busy)) {}

void InstanceRegistry::load(std::vector<core::Instance> instances) {
  for (core::Instance& instance : instances) {
    const std::string id = instance.id;
    instances_.insert_or_assign(id, std::move(instance));
  }
}

void InstanceRegistry::put(core::Instance instance,
                           std::function<void(Result<core::Instance>)> done) {
  if (instance.id.empty() || instance.id == "local")
    return done(fail(ErrorCode::kInvalidArgument, "an instance needs an id other than 'local'"));
  if (check_) {
    if (auto checked = check_(instance); !checked) return done(fail(checked.error()));
  }
  if (instance.ui_home.empty()) instance.ui_home = core::kDefaultUiHome;
  if (instance.max_parallel < 1) instance.max_parallel = 1;
  if (auto known = instances_.find(instance.id); known != instances_.end()) {
    instance.created_at = known->second.created_at;
    instance.last_used_at = known->second.last_used_at;
  } else {
    instance.created_at = clock_.now();
  }
  store::WriteBatch batch;
  batch.instance_upserts.push_back(instance);
  db_.write(std::move(batch), [this, instance, done = std::move(done)](Result<void> written) {
    if (!written) return done(fail(written.error()));
    instances_[instance.id] = instance;
    spdlog::info("instance {}: {} (UI_HOME {})", instance.id, instance.ssh_command,
                 instance.ui_home);
    done(instance);
    if (changed_) changed_();
  });
}

void InstanceRegistry::remove(const std::string& id, std::function<void(Result<void>)> done) {
  if (instances_.count(id) == 0) return done(fail(ErrorCode::kNotFound, "no instance " + id));
  if (busy_ && busy_(id)) {
    return done(
        fail(ErrorCode::kConflict, "instance " + id + " has unfinished jobs: cancel them first"));
  }
  store::WriteBatch batch;
  batch.instance_deletes.push_back(id);
  db_.write(std::move(batch), [this, id, done = std::move(done)](const Result<void>& written) {
    if (written) instances_.erase(id);
    done(written);
  });
}

void InstanceRegistry::prune(std::chrono::milliseconds older_than,
                             std::function<void(Result<std::vector<std::string>>)> done) {
  const auto cutoff = clock_.now() - older_than;
  std::vector<std::string> unused;
  store::WriteBatch batch;
  for (const auto& [id, instance] : instances_) {
    if (busy_ && busy_(id)) continue;
    if (instance.last_used_at.value_or(instance.created_at) > cutoff) continue;
    unused.push_back(id);
    batch.instance_deletes.push_back(id);
  }
  if (unused.empty()) return done(std::move(unused));
  db_.write(std::move(batch), [this, unused, done = std::move(done)](Result<void> written) {
    if (!written) return done(fail(written.error()));
    for (const std::string& id : unused) {
      instances_.erase(id);
      spdlog::info("instance {}: pruned (unused)", id);
    }
    done(unused);
  });
}

void InstanceRegistry::touch(const std::string& id) {
  auto it = instances_.find(id);
  if (it == instances_.end()) return;
  it->second.last_used_at = clock_.now();
  store::WriteBatch batch;
  batch.instance_upserts.push_back(it->second);
  db_.write(std::move(batch));
}

const core::Instance* InstanceRegistry::find(const std::string& id) const {
  auto it = instances_.find(id);
  return it == instances_.end() ? nullptr : &it->second;
}

std::vector<const core::Instance*> InstanceRegistry::list() const {
  std::vector<const core::Instance*> out;
  for (const auto& [id, instance] : instances_) out.push_back(&instance);
  return out;
}

}  // namespace haul::scheduler
