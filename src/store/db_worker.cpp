#include "store/db_worker.hpp"

#include <pthread.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

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

// A copy when the caller keeps the original, else the value itself.
template <typename T>
T take(T& value, bool keep) {
  return keep ? T(value) : std::move(value);
}

// One transaction for a run of writes. Job ids are never reused, so a
// delete anywhere in the run wins over any upsert. With `keep` the writes
// are copied from, not moved from: they may have to be applied again one
// by one.
WriteBatch merge(std::vector<WriteBatch>& batches, bool keep) {
  WriteBatch merged;
  std::map<std::string, std::size_t> upsert_at;
  std::set<std::string> deleted;
  // Instances and manifests: the last write of an id wins; nullopt = delete.
  std::map<std::string, std::optional<core::Instance>> instances;
  std::map<std::string, std::optional<StoredManifest>> manifests;
  // The last request of each job wins, as it would applied in turn.
  std::map<std::string, ActionRequest> requests;
  // Hosts likewise: the last of each job.
  std::map<std::string, JobHost> hosts;
  for (WriteBatch& original : batches) {
    WriteBatch batch = take(original, keep);
    for (core::Job& job : batch.upserts) {
      auto [it, inserted] = upsert_at.try_emplace(job.id, merged.upserts.size());
      if (inserted) {
        merged.upserts.push_back(std::move(job));
      } else {
        merged.upserts[it->second] = std::move(job);
      }
    }
    for (std::string& id : batch.deletes) deleted.insert(std::move(id));
    for (StoredEvent& event : batch.events) merged.events.push_back(std::move(event));
    last_wins(instances, batch.instance_upserts, batch.instance_deletes);
    last_wins(manifests, batch.manifest_upserts, batch.manifest_deletes);
    for (ActionRequest& request : batch.action_requests) {
      const std::string id = request.job_id;
      requests.insert_or_assign(id, std::move(request));
    }
    for (JobHost& host : batch.hosts) {
      const std::string id = host.job_id;
      hosts.insert_or_assign(id, std::move(host));
    }
    // Every fence of every write: the merged batch holds only while all do.
    for (Fence& fence : batch.fences) merged.fences.push_back(std::move(fence));
    for (Fence& release : batch.releases) merged.releases.push_back(std::move(release));
  }
  if (!deleted.empty()) {
    std::erase_if(merged.upserts, [&](const core::Job& job) { return deleted.count(job.id) != 0; });
    merged.deletes.assign(deleted.begin(), deleted.end());
  }
  split_last(instances, merged.instance_upserts, merged.instance_deletes);
  split_last(manifests, merged.manifest_upserts, merged.manifest_deletes);
  for (auto& [id, request] : requests) merged.action_requests.push_back(std::move(request));
  for (auto& [id, host] : hosts) merged.hosts.push_back(std::move(host));
  // The same fence twice (two writes of one job under one lease) is checked once.
  auto order = [](const Fence& a, const Fence& b) {
    return std::tie(a.job_id, a.node, a.token) < std::tie(b.job_id, b.node, b.token);
  };
  for (std::vector<Fence>* fences : {&merged.fences, &merged.releases}) {
    std::sort(fences->begin(), fences->end(), order);
    fences->erase(std::unique(fences->begin(), fences->end()), fences->end());
  }
  return merged;
}

bool has_fences(const std::vector<WriteBatch>& batches) {
  return std::any_of(batches.begin(), batches.end(),
                     [](const WriteBatch& batch) { return !batch.fences.empty(); });
}

}  // namespace

void DbWorker::apply_writes(std::deque<Task>& tasks) {
  // The run of writes at the front, merged into one transaction.
  std::vector<WriteBatch> batches;
  std::vector<WriteDone> callbacks;  // one per batch, possibly empty
  while (!tasks.empty() && std::holds_alternative<Write>(tasks.front())) {
    Write write = std::move(std::get<Write>(tasks.front()));
    tasks.pop_front();
    batches.push_back(std::move(write.batch));
    callbacks.push_back(std::move(write.done));
  }
  // Only a fence fails a batch with kConflict (a lease lost to another
  // node). Merged, one write's lost lease would fail every write of the
  // run, so a fenced run keeps its writes to apply them one by one then,
  // each with its own result. Runs without fences move, not copy.
  const bool fenced = batches.size() > 1 && has_fences(batches);
  const WriteBatch merged = merge(batches, fenced);
  Result<void> result =
      merged.empty() && merged.fences.empty() ? Result<void>{} : store_->apply(merged);
  std::vector<Result<void>> results(batches.size(), result);
  if (fenced && !result && result.error().code == ErrorCode::kConflict) {
    std::transform(batches.begin(), batches.end(), results.begin(),
                   [this](const WriteBatch& batch) { return store_->apply(batch); });
  }
  auto outcome = results.begin();  // one per callback
  for (WriteDone& done : callbacks) {
    Result<void> written = std::move(*outcome++);
    if (done) post_([done = std::move(done), written = std::move(written)] { done(written); });
  }
}

}  // namespace haul::store
