#include "store/db_worker.hpp"

#include <pthread.h>

#include <map>
#include <optional>
#include <set>

namespace haul::store {

DbWorker::DbWorker(std::unique_ptr<JobStore> store, Post post)
    : store_(std::move(store)), post_(std::move(post)) {
  thread_ = std::thread([this] { run(); });
}

DbWorker::DbWorker(std::unique_ptr<JobStore> store, Post post, Inline)
    : store_(std::move(store)), post_(std::move(post)), inline_(true) {}

DbWorker::~DbWorker() {
  if (inline_) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void DbWorker::write(WriteBatch batch, WriteDone done) {
  enqueue(Write{std::move(batch), std::move(done)});
}

void DbWorker::enqueue(Task task) {
  if (inline_) {
    std::deque<Task> tasks;
    tasks.push_back(std::move(task));
    if (std::holds_alternative<Read>(tasks.front())) {
      std::get<Read>(tasks.front()).run(*store_);
    } else {
      apply_writes(tasks);
    }
    return;
  }
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
}

void DbWorker::run() {
  pthread_setname_np(pthread_self(), "haul-db");
  while (true) {
    std::deque<Task> tasks;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping and drained
      tasks.swap(tasks_);
    }
    // Reads keep their place: writes before a read are committed before it runs.
    while (!tasks.empty()) {
      if (std::holds_alternative<Read>(tasks.front())) {
        std::get<Read>(tasks.front()).run(*store_);
        tasks.pop_front();
      } else {
        apply_writes(tasks);
      }
    }
  }
}

namespace {

// Records kept by id (instances, manifests): within a merged run of writes
// the last upsert or delete of an id is the one that counts.
template <typename Record>
void last_wins(std::map<std::string, std::optional<Record>>& latest, std::vector<Record>& upserts,
               std::vector<std::string>& deletes) {
  for (Record& record : upserts) {
    const std::string id = record.id;
    latest[id] = std::move(record);
  }
  for (std::string& id : deletes) latest[std::move(id)].reset();
}

template <typename Record>
void split_last(std::map<std::string, std::optional<Record>>& latest, std::vector<Record>& upserts,
                std::vector<std::string>& deletes) {
  for (auto& [id, record] : latest) {
    if (record) {
      upserts.push_back(std::move(*record));
    } else {
      deletes.push_back(id);
    }
  }
}

}  // namespace

void DbWorker::apply_writes(std::deque<Task>& tasks) {
  // Merge the run of writes at the front into one transaction. Job ids are
  // never reused, so a delete anywhere in the run wins over any upsert.
  WriteBatch merged;
  std::vector<WriteDone> callbacks;
  std::map<std::string, std::size_t> upsert_at;
  std::set<std::string> deleted;
  // Instances and manifests: the last write of an id wins; nullopt = delete.
  std::map<std::string, std::optional<core::Instance>> instances;
  std::map<std::string, std::optional<StoredManifest>> manifests;
  while (!tasks.empty() && std::holds_alternative<Write>(tasks.front())) {
    Write write = std::move(std::get<Write>(tasks.front()));
    tasks.pop_front();
    for (core::Job& job : write.batch.upserts) {
      auto [it, inserted] = upsert_at.try_emplace(job.id, merged.upserts.size());
      if (inserted) {
        merged.upserts.push_back(std::move(job));
      } else {
        merged.upserts[it->second] = std::move(job);
      }
    }
    for (std::string& id : write.batch.deletes) deleted.insert(std::move(id));
    for (StoredEvent& event : write.batch.events) merged.events.push_back(std::move(event));
    last_wins(instances, write.batch.instance_upserts, write.batch.instance_deletes);
    last_wins(manifests, write.batch.manifest_upserts, write.batch.manifest_deletes);
    if (write.done) callbacks.push_back(std::move(write.done));
  }
  if (!deleted.empty()) {
    std::erase_if(merged.upserts, [&](const core::Job& job) { return deleted.count(job.id) != 0; });
    merged.deletes.assign(deleted.begin(), deleted.end());
  }
  split_last(instances, merged.instance_upserts, merged.instance_deletes);
  split_last(manifests, merged.manifest_upserts, merged.manifest_deletes);
  Result<void> result = merged.empty() ? Result<void>{} : store_->apply(merged);
  for (WriteDone& done : callbacks) {
    post_([done = std::move(done), result] { done(result); });
  }
}

}  // namespace haul::store
