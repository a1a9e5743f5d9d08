// A JobStore in memory: the same contract as the SQLite store (the store
// test suite runs against both), nothing kept across processes. For the
// scheduler's tests and anything else that needs a store without a file.
//
// Threading: one thread at a time, as every JobStore (the DB worker's).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include "store/job_store.hpp"

namespace haul::store {

class MemoryJobStore final : public JobStore {
 public:
  // `event_capacity`: how many of the newest events the log keeps.
  explicit MemoryJobStore(std::size_t event_capacity = 10000) : event_capacity_(event_capacity) {}

  Result<void> open() override { return {}; }
  Result<void> apply(const WriteBatch& batch) override;
  Result<std::vector<core::Job>> load_jobs(const JobFilter& filter) override;
  Result<std::optional<core::Job>> load_job(const std::string& id) override;
  Result<std::int64_t> max_seq() override { return max_seq_; }
  Result<std::vector<StoredEvent>> events_after(std::uint64_t after, std::size_t limit) override;
  Result<std::uint64_t> last_event_id() override { return last_event_id_; }
  Result<std::vector<core::Instance>> load_instances() override;
  Result<std::vector<StoredManifest>> load_manifests() override;

 private:
  // `job` as loaded: with its requested action.
  core::Job loaded(const core::Job& job) const;

  std::size_t event_capacity_;
  std::map<std::string, core::Job> jobs_;  // by id, without pending_action
  // Beside the jobs, as in the SQL stores' own column: upserts leave it,
  // loads report it as pending_action. Only for stored jobs.
  std::map<std::string, core::Action> requested_;  // by job id
  // WriteBatch::hosts, kept as the SQL stores keep jobs.host; never read
  // back (no load returns it, and this store never claims).
  std::map<std::string, std::string> hosts_;  // by job id
  std::map<std::string, core::Instance> instances_;
  std::map<std::string, StoredManifest> manifests_;
  std::map<std::uint64_t, StoredEvent> events_;  // by id: the log keeps the newest
  std::int64_t max_seq_ = 0;
  std::uint64_t last_event_id_ = 0;
};

}  // namespace haul::store
