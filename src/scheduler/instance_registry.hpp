// The remote instances jobs can target: registered, replaced, removed,
// pruned when unused, and marked when a job starts there. Persisted through
// the DB worker; a change is visible once it is stored.
//
// Threading: control thread only (store results come back there).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "core/instance.hpp"
#include "scheduler/clock.hpp"
#include "store/db_worker.hpp"

namespace haul::scheduler {

class InstanceRegistry {
 public:
  // `check` validates an instance's SSH command (remote::endpoint_from_command).
  // `busy(id)` says whether unfinished jobs target it.
  using Check = std::function<Result<void>(const core::Instance&)>;
  using Busy = std::function<bool(const std::string& instance_id)>;

  InstanceRegistry(store::DbWorker& db, Clock& clock, Check check, Busy busy);

  void load(std::vector<core::Instance> instances);
  // Registers or replaces (keeping when it was created and last used).
  // Errors: kInvalidArgument (no id, "local", or an SSH command that does not
  // parse), the store's.
  void put(core::Instance instance, std::function<void(Result<core::Instance>)> done);
  // Errors: kNotFound, kConflict while unfinished jobs target it.
  void remove(const std::string& id, std::function<void(Result<void>)> done);
  // Removes the instances unused (no job started there, else since they were
  // registered) for longer than `older_than` that no unfinished job targets;
  // `done` gets their ids.
  void prune(std::chrono::milliseconds older_than,
             std::function<void(Result<std::vector<std::string>>)> done);
  // A job starts there now (last_used_at), stored in the background.
  void touch(const std::string& id);

  // Called after an instance was stored (jobs waiting for it may start).
  void on_change(std::function<void()> changed) { changed_ = std::move(changed); }

  const core::Instance* find(const std::string& id) const;
  std::vector<const core::Instance*> list() const;

 private:
  store::DbWorker& db_;
  Clock& clock_;
  Check check_;
  Busy busy_;
  std::function<void()> changed_;
  std::map<std::string, core::Instance> instances_;  // by id
};

}  // namespace haul::scheduler
