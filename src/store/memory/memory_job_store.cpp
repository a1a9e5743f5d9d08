#include "store/memory/memory_job_store.hpp"

#include <algorithm>

namespace haul::store {

namespace {

// What the store keeps of a job: live figures are not persisted.
core::Job stored(core::Job job) {
  job.speed = 0;
  job.eta_seconds.reset();
  job.pending_action.reset();
  for (core::Item& item : job.items) {
    item.speed = 0;
    if (item.extras.allocated()) item.extras.edit().percent.reset();
  }
  return job;
}

}  // namespace

Result<void> MemoryJobStore::apply(const WriteBatch& batch) {
  for (const core::Job& job : batch.upserts) {
    jobs_.insert_or_assign(job.id, stored(job));
    max_seq_ = std::max(max_seq_, job.seq);
  }
  for (const std::string& id : batch.deletes) {
    jobs_.erase(id);
    requested_.erase(id);
    hosts_.erase(id);
  }
  // After the deletes, as in the SQL stores: a request for a job deleted in
  // the same batch, or never stored, is dropped.
  for (const ActionRequest& request : batch.action_requests) {
    if (!jobs_.contains(request.job_id)) continue;
    if (request.action) {
      requested_.insert_or_assign(request.job_id, *request.action);
    } else {
      requested_.erase(request.job_id);
    }
  }
  for (const JobHost& host : batch.hosts) {
    if (jobs_.contains(host.job_id)) hosts_.insert_or_assign(host.job_id, host.host);
  }
  for (const StoredEvent& event : batch.events) {
    events_.try_emplace(event.id, event);  // an id already stored keeps its event, as in PostgreSQL
    last_event_id_ = std::max(last_event_id_, event.id);
  }
  while (events_.size() > event_capacity_) events_.erase(events_.begin());
  for (const core::Instance& instance : batch.instance_upserts)
    instances_.insert_or_assign(instance.id, instance);
  for (const std::string& id : batch.instance_deletes) instances_.erase(id);
  for (const StoredManifest& manifest : batch.manifest_upserts) {
    auto [it, inserted] = manifests_.try_emplace(manifest.id, manifest);
    if (!inserted) {
      const core::TimePoint created = it->second.created_at;  // an update keeps its creation
      it->second = manifest;
      it->second.created_at = created;
    }
  }
  for (const std::string& id : batch.manifest_deletes) manifests_.erase(id);
  return {};
}

Result<std::vector<core::Job>> MemoryJobStore::load_jobs(const JobFilter& filter) {
  std::vector<core::Job> out;
  for (const auto& [id, job] : jobs_) {
    if (filter.state && job.state != *filter.state) continue;
    if (filter.target && job.target != *filter.target) continue;
    if (filter.group && job.group != *filter.group) continue;
    out.push_back(loaded(job));
  }
  std::sort(out.begin(), out.end(),
            [](const core::Job& a, const core::Job& b) { return a.seq < b.seq; });
  return out;
}

Result<std::optional<core::Job>> MemoryJobStore::load_job(const std::string& id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::optional<core::Job>{};
  return std::optional<core::Job>{loaded(it->second)};
}

core::Job MemoryJobStore::loaded(const core::Job& job) const {
  core::Job copy = job;
  if (auto it = requested_.find(job.id); it != requested_.end()) copy.pending_action = it->second;
  return copy;
}

Result<std::vector<StoredEvent>> MemoryJobStore::events_after(std::uint64_t after,
                                                              std::size_t limit) {
  std::vector<StoredEvent> out;
  for (auto it = events_.upper_bound(after); it != events_.end() && out.size() < limit; ++it)
    out.push_back(it->second);
  return out;
}

Result<std::vector<core::Instance>> MemoryJobStore::load_instances() {
  std::vector<core::Instance> out;
  for (const auto& [id, instance] : instances_) out.push_back(instance);
  return out;
}

Result<std::vector<StoredManifest>> MemoryJobStore::load_manifests() {
  std::vector<StoredManifest> out;
  for (const auto& [id, manifest] : manifests_) out.push_back(manifest);
  return out;
}

}  // namespace haul::store
