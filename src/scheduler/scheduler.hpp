// The scheduler: the queue and nothing else. It turns requests into jobs (a
// JobRunner prepares each kind), persists every change through the DB
// worker, starts jobs by priority then age within the limits (max_active and
// per host for local jobs, max_parallel per instance), applies what runners
// report through the one lifecycle (core/lifecycle.hpp), retries with
// exponential backoff (seed 003: 2 s, 4 s, 8 s, ...; a longer Retry-After
// wins), and recovers jobs a crash left running.
//
// Threading: every method runs on the control thread; runners report there
// (RunHost), store results come back there, the clock wakes it there.
// Nothing here blocks except start(), before the daemon serves.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/backoff.hpp"
#include "base/error.hpp"
#include "core/instance.hpp"
#include "core/job.hpp"
#include "core/job_request.hpp"
#include "scheduler/clock.hpp"
#include "scheduler/event_bus.hpp"
#include "scheduler/instance_registry.hpp"
#include "scheduler/job_runner.hpp"
#include "store/db_worker.hpp"
#include "store/job_store.hpp"

namespace haul::scheduler {

struct SchedulerOptions {
  int max_active = 3;    // local jobs running at once
  int max_per_host = 0;  // local jobs per source host; 0 = no limit
  int default_max_attempts = 5;
  // Relative `path` filters start here (the first models root, where `dest` starts).
  std::filesystem::path models_root = std::filesystem::current_path();
  // Wait before attempt n+1: initial x 2^(n-1), +-10 % jitter, capped; a
  // server's longer Retry-After wins.
  BackoffPolicy retry_backoff{std::chrono::seconds(2), 2.0, std::chrono::minutes(5), 0.1};
  std::chrono::milliseconds persist_interval{500};  // progress writes per job
  std::chrono::milliseconds publish_interval{250};  // live progress per job
  // Draws in [0, 1) for the jitter; null: a random engine.
  std::function<double()> random;
  // Validates an instance's SSH command; null accepts any.
  InstanceRegistry::Check check_instance;
  // A queue shared with other nodes (the store implements
  // store::QueueClaims; docs/design/cluster.md): this node's name. A job
  // starts only once claimed, its writes carry the claim's fence, its lease
  // is given back when the attempt ends. Empty: the sole node, owning every
  // job.
  std::string node;
  std::chrono::milliseconds lease{15000};
  // How often a shared queue is asked for jobs nobody holds (a dead node's,
  // one another node gave back) even when nothing changed here.
  std::chrono::milliseconds claim_interval{2000};
};

// Which jobs GET /api/v1/jobs lists; unset fields match every job.
struct JobFilter {
  std::optional<core::JobState> state;
  std::optional<std::string> target;
  std::optional<std::string> group;
  std::optional<std::string> name;
  // Jobs writing this file or anything under this folder (item paths and
  // destinations); relative paths start at options.models_root.
  std::optional<std::string> path;
};

struct AddResult {
  core::Job job;
  bool existing = false;  // an unfinished job for the same download and destination
};

// What act() did: the job as it is now, and whether a stop is still under
// way (pause or cancel of a running job: its end follows as events).
struct ActResult {
  core::Job job;
  bool pending = false;
};

struct SchedulerStats {
  std::map<core::JobState, std::size_t> jobs_by_state;
  std::uint64_t bytes_downloaded = 0;  // since the daemon started
  std::size_t active_items = 0;        // items transferring or commands running
  double speed = 0;                    // bytes/s over all running jobs
};

class Scheduler final : public RunHost {
 public:
  Scheduler(store::DbWorker& db, EventBus& bus, Clock& clock, SchedulerOptions options);
  ~Scheduler() override;

  // Before start(): the runners, asked in this order which takes a request.
  void add_runner(JobRunner& runner);

  // Loads jobs and instances, puts jobs a crash left running back in the
  // queue, starts what may start. Blocks on the DB worker. Errors: the store's.
  Result<void> start();

  // Validates (the runner's prepare), dedups, persists, then calls `done`.
  // Several requests are committed in one transaction; one bad request
  // refuses them all (the error names it).
  void add(const std::vector<core::JobRequest>& requests,
           std::function<void(Result<std::vector<AddResult>>)> done);
  // pause / resume / retry / cancel, answered at once: a running job's stop
  // is started and reported pending. Errors: kNotFound (no such job),
  // kConflict (not possible in its state: the API's 409).
  void act(const std::string& id, core::Action action, std::function<void(Result<ActResult>)> done);
  // Cancels the job if unfinished (waiting for its stop), then deletes it.
  void remove(const std::string& id, std::function<void(Result<void>)> done);

  InstanceRegistry& instances() { return instances_; }
  const InstanceRegistry& instances() const { return instances_; }

  const core::Job* find(const std::string& id) const;
  // Matching jobs, in insertion order.
  std::vector<const core::Job*> list(const JobFilter& filter = {}) const;
  SchedulerStats stats() const;
  const SchedulerOptions& options() const { return options_; }

  // A shared queue: what other nodes changed, as the daemon hears it
  // (store/postgres/change_listener.hpp). Reloads those jobs (no ids: every
  // job, after notifications may have been lost), applies them and
  // publishes what changed; a job this node runs keeps its own state and
  // only takes a pause or cancel asked for elsewhere.
  void reload_jobs(std::vector<std::string> ids);
  void reload_all();
  // Instances registered or removed on another node.
  void reload_instances();
  bool shared() const { return !options_.node.empty(); }
  // Jobs whose lease this node holds (running, or being concluded).
  std::size_t leases_held() const { return leases_.size(); }
  // Runs taken over from a node whose lease lapsed, since start (/metrics).
  std::uint64_t takeovers() const { return takeovers_; }

  // Stops every running job (their runners keep what is done; remote
  // commands run on), records them as queued for the next start, then calls
  // `done`.
  void shutdown(std::function<void()> done);

  // RunHost
  const core::Job* job(const std::string& job_id) const override { return find(job_id); }
  const core::Instance* instance(const std::string& instance_id) const override {
    return instances_.find(instance_id);
  }
  void items_planned(const std::string& job_id, std::vector<core::Item> items,
                     const std::string& name) override;
  void item_started(const std::string& job_id, std::size_t item) override;
  void item_progress(const std::string& job_id, std::size_t item,
                     const ItemProgress& progress) override;
  void item_finished(const std::string& job_id, std::size_t item,
                     const Result<ItemOutcome>& outcome) override;
  void install_progress(const core::InstallProgress& progress) override;
  void item_output(const std::string& job_id, std::size_t item, std::string tail,
                   std::uint64_t lines) override;
  void run_finished(const std::string& job_id, const Result<void>& outcome) override;

 private:
  struct Run;
  using JobMap = std::unordered_map<std::string_view, core::Job>;
  using JobMapIterator = JobMap::iterator;

  JobRunner* runner_for(const core::JobRequest& request) const;
  JobRunner* runner_for(const core::Job& job) const;
  Result<core::Job> make_job(const core::JobRequest& request, std::int64_t seq) const;
  std::string dedup_key(const core::Job& job) const;
  // The unfinished job (stored, or being added) with this dedup_key, if any.
  const core::Job* find_unfinished(const std::string& key) const;
  // Idempotent; unindex takes out this job's entry only.
  void index_unfinished(const core::Job& job);
  void unindex_unfinished(const core::Job& job);
  // The index entry of `job` under `hash`, or unfinished_by_key_.end().
  std::unordered_multimap<std::size_t, const core::Job*>::iterator unfinished_entry(
      std::size_t hash, const core::Job& job);

  // At most every persist_interval per run: true (and stamped) when due.
  bool persist_due(Run& run, std::chrono::steady_clock::time_point now) const;
  void schedule();
  bool has_room(const core::Job& job) const;
  void start_job(core::Job& job);
  // A run that ended without its node (a crash, or a node whose lease
  // lapsed): queued again, its items to resume from what is on disk.
  static void requeue_interrupted(core::Job& job);
  // Shared queue (scheduler_shared.cpp): asks the store for startable jobs
  // when there is room and reason to, starts what it got.
  struct Claimed;
  // At start: this node's leases from before it stopped lapse now, so its
  // old runs are taken over at the next claim. Blocks on the DB worker.
  Result<void> abandon_old_leases();
  void claim_jobs();
  void start_claimed(std::vector<Claimed> claimed);
  // Starts one claimed job; false: not started here (the caller releases it).
  bool try_start(Claimed& entry);
  void release(const std::string& job_id, std::int64_t token);
  // A fenced write was refused: the job is someone else's now.
  void lease_lost(const std::string& job_id);
  // Puts a stored job in place of ours (or drops ours: nullopt), publishing
  // what changed.
  void apply_stored(const std::string& id, std::optional<core::Job> stored);
  void forget(JobMapIterator it, bool relayed = false);
  // A job another node runs, reloaded: its live speed and ETA from `before`.
  void relay_speed(const core::Job& before, core::Job& now);
  void add_fence(store::WriteBatch& batch, const std::string& job_id) const;
  // Applies `event` to the job (it must be allowed), publishes, persists;
  // `persisted` learns when the change is stored.
  void transition(core::Job& job, core::JobEvent event,
                  std::function<void(Result<void>)> persisted = {}, bool release_lease = false);
  void request_stop(core::Job& job, Run& run, core::Action action);
  // pause / cancel of a job another node runs (shared queue).
  void request_elsewhere(core::Job& job, core::Action action,
                         const std::function<void(Result<ActResult>)>& done);
  // pause / resume / retry / cancel of a job that is not running: at once.
  void apply_idle_action(core::Job& job, core::Action action,
                         std::function<void(Result<void>)> persisted = {});
  void conclude(core::Job& job, const Result<void>& outcome);
  // After a run's end: the next wake, the shutdown's end, the next starts.
  void run_ended();
  Run* run_of(const std::string& job_id);
  core::Item* item_of(const std::string& job_id, std::size_t index);
  void refresh_runnable(core::Job& job);
  // `release_lease`: a shared queue's lease on the job ends with this write.
  void persist(const core::Job& job, std::function<void(Result<void>)> done = {},
               bool release_lease = false);
  // `relayed`: another node's change (core::Event::relayed).
  void publish(core::EventType type, const core::Job& job, bool relayed = false);
  void arm_retry_wake();
  std::chrono::milliseconds backoff(int attempts);

  store::DbWorker& db_;
  EventBus& bus_;
  Clock& clock_;
  SchedulerOptions options_;
  std::vector<JobRunner*> runners_;
  InstanceRegistry instances_;

  // Jobs by id; list() sorts by seq. Each key views its job's own id (one
  // copy of an id per job): make nodes with job_node(). The indexes below
  // point into these nodes, which stay where they are until erased.
  JobMap::node_type job_node(core::Job job);
  JobMap jobs_;
  // Where job_node() makes its nodes: empty between calls, its buckets kept
  // so that making a node allocates the node only.
  JobMap node_maker_;
  // Jobs that may start now or at next_attempt_at, best first: priority,
  // then age (seq).
  struct RunnableOrder {
    bool operator()(const std::pair<int, std::int64_t>& a,
                    const std::pair<int, std::int64_t>& b) const {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    }
  };
  // Multimaps: nodes sharing a queue may give two jobs one seq.
  using Runnable = std::multimap<std::pair<int, std::int64_t>, core::Job*, RunnableOrder>;
  static void unlist(Runnable& runnable, const core::Job& job);
  Runnable runnable_local_;
  Runnable runnable_remote_;
  std::set<std::string> retrying_;  // ids in state retrying: the retry wake looks only here
  // Unfinished jobs (stored, or in adding_) by the hash of their dedup_key:
  // the keys themselves (target, folder and source) would cost ~150 bytes a
  // queued job.
  std::unordered_multimap<std::size_t, const core::Job*> unfinished_by_key_;
  // Jobs between add() and their commit: duplicates find them here. Their
  // nodes then move into jobs_ as they are.
  JobMap adding_;
  std::map<std::string, std::unique_ptr<Run>> runs_;  // running jobs by id
  std::map<std::string, int> local_per_host_;         // running local jobs by host
  std::map<std::string, int> running_on_instance_;
  int local_running_ = 0;
  std::map<std::string, int> hash_mismatches_;  // per unfinished job: two mean failed
  std::int64_t next_seq_ = 1;
  std::uint64_t bytes_downloaded_ = 0;
  std::function<void()> shutdown_done_;
  bool shutting_down_ = false;
  bool started_ = false;
  bool scheduling_ = false;      // schedule() is running
  bool schedule_again_ = false;  // it was asked for again meanwhile
  // Shared queue: job id -> the token of the claim this node holds.
  std::unordered_map<std::string, std::int64_t> leases_;
  bool claiming_ = false;     // a claim is on the DB worker
  bool claim_wanted_ = true;  // something changed that a claim may answer
  std::uint64_t takeovers_ = 0;
  core::TimePoint next_claim_tick_{};
  // Jobs other nodes run: when this node last reloaded each (relay_speed).
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> relayed_at_;
};

}  // namespace haul::scheduler
