// The scheduler: the only writer of job state. It turns requests into jobs,
// persists every change through the DB worker, starts jobs by priority then
// age within the concurrency limits, runs their items on the transfer
// engine, retries with exponential backoff (seed 003: 2 s, 4 s, 8 s, ...),
// and recovers after a crash.
//
// Threading: every method runs on the control thread (the io_context passed
// in). Engine callbacks arrive on the engine's thread and are posted here;
// store results come back the same way. Nothing here blocks.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/backoff.hpp"
#include "base/error.hpp"
#include "core/instance.hpp"
#include "core/job.hpp"
#include "library/library.hpp"
#include "remote/remote_runner.hpp"
#include "scheduler/event_bus.hpp"
#include "sources/plan.hpp"
#include "sources/resolve.hpp"
#include "store/db_worker.hpp"
#include "transfer/engine.hpp"

namespace haul::scheduler {

struct SchedulerOptions {
  int max_active = 3;        // jobs running at once
  int max_per_host = 0;      // running jobs per source host; 0 = no limit
  int item_concurrency = 4;  // items of one job transferring at once
  int connections = 8;       // per item
  int default_max_attempts = 5;
  // Destinations must lie inside one of these; the first is the default and
  // the base of relative destinations.
  std::vector<std::filesystem::path> roots;
  // Wait before attempt n+1: initial x 2^(n-1), +-10 % jitter, capped; a
  // server's longer Retry-After wins.
  BackoffPolicy retry_backoff{std::chrono::seconds(2), 2.0, std::chrono::minutes(5), 0.1};
  std::chrono::milliseconds persist_interval{500};  // progress writes per job
  std::chrono::milliseconds publish_interval{250};  // live progress per job
  // Within one attempt. A job's attempts are the retries a user sees: a
  // request that gets no byte ends the attempt instead of being retried in
  // place (a connection that was receiving resumes at once).
  transfer::RetryPolicy transfer_retry{.retry_only_after_data = true};
  transfer::EngineOptions engine{};
  // Environment for resolving sources (HF_TOKEN, CIVITAI_TOKEN, AWS_*, ...).
  sources::GetEnv getenv = sources::process_env();
  // Resource cards installed on instances; null: none can be.
  const library::Library* library = nullptr;
  remote::SessionOptions ssh{};
  std::chrono::seconds command_timeout{3600};  // per remote command (seed 001)
};

// A request to download, already parsed from JSON or the command line.
struct JobRequest {
  std::vector<std::string> sources;
  std::string target = "local";
  std::string dest;                   // directory; relative to the first root; empty = that root
  std::optional<std::string> sha256;  // single-source jobs only
  int priority = 0;
  std::string group;
  std::string name;
  std::optional<int> max_attempts;
  std::map<std::string, std::string> labels;
  // See core::Job::source_options.
  std::map<std::string, std::string> source_options;
  // Resource cards on an instance: UI_HOME for this job; "" = the instance's.
  std::string ui_home;
};

// Which jobs GET /api/v1/jobs lists; unset fields match every job.
struct JobFilter {
  std::optional<core::JobState> state;
  std::optional<std::string> target;
  std::optional<std::string> group;
  std::optional<std::string> name;
  // Jobs writing this file or anything under this folder (item paths and
  // destinations). Relative paths are taken from the first root, as -d is.
  std::optional<std::string> path;
};

// What act() did: the job as it is now, and whether a stop is still under
// way (pause or cancel of a running job: its end follows as events).
struct ActResult {
  core::Job job;
  bool pending = false;
};

struct AddResult {
  core::Job job;
  bool existing = false;  // an unfinished job for the same source and destination
};

struct SchedulerStats {
  std::map<core::JobState, std::size_t> jobs_by_state;
  std::uint64_t bytes_downloaded = 0;  // since the daemon started
  std::size_t active_transfers = 0;
  double speed = 0;  // bytes/s over all running jobs
};

class Scheduler final : public transfer::TransferObserver, public remote::RemoteObserver {
 public:
  Scheduler(boost::asio::io_context& io, store::DbWorker& db, EventBus& bus,
            SchedulerOptions options);
  ~Scheduler() override;

  // Before serving: loads jobs, re-queues those a crash left running, starts
  // the engine. Blocks on the DB worker. Errors: the store's.
  Result<void> start();

  // Validates (kInvalidArgument: unparsable source; kFailedPrecondition-like
  // kPermissionDenied: destination outside the roots), dedups, persists, then
  // calls `done`. Several requests are committed in one transaction.
  void add(std::vector<JobRequest> requests,
           std::function<void(Result<std::vector<AddResult>>)> done);
  // pause / resume / retry / cancel, answered at once: a running job's stop
  // is started and reported pending. Errors: kNotFound (no such job),
  // kConflict (not possible in its state: the API's 409).
  void act(const std::string& id, core::Action action, std::function<void(Result<ActResult>)> done);
  // Cancels the job if unfinished, then deletes its record.
  void remove(const std::string& id, std::function<void(Result<void>)> done);

  // Registers or replaces an instance after checking its SSH command.
  // Errors: kInvalidArgument (the command does not parse), the store's.
  void put_instance(core::Instance instance, std::function<void(Result<core::Instance>)> done);
  // Errors: kNotFound, kConflict while unfinished jobs target it.
  void remove_instance(const std::string& id, std::function<void(Result<void>)> done);
  // Removes the instances unused (no job started there, else since they were
  // registered) for longer than `older_than` and without unfinished jobs;
  // `done` gets their ids.
  void prune_instances(std::chrono::milliseconds older_than,
                       std::function<void(Result<std::vector<std::string>>)> done);
  const core::Instance* find_instance(const std::string& id) const;
  std::vector<const core::Instance*> instances() const;

  const core::Job* find(const std::string& id) const;
  // Matching jobs, in insertion order.
  std::vector<const core::Job*> list(const JobFilter& filter = {}) const;
  SchedulerStats stats() const;
  const SchedulerOptions& options() const { return options_; }

  // Stops every transfer, keeping partial files, records running jobs as
  // queued (they resume at the next start), then calls `done`.
  void shutdown(std::function<void()> done);

  // transfer::TransferObserver: engine thread; posted to the control thread.
  void on_progress(const transfer::TransferProgress& progress) override;
  void on_finished(transfer::TransferId id,
                   const Result<transfer::TransferResult>& result) override;

  // remote::RemoteObserver: SSH worker threads; posted to the control thread.
  void on_step_started(const std::string& job_id, std::size_t step) override;
  void on_step_progress(const std::string& job_id, std::size_t step,
                        const remote::progress::ProgressUpdate& update) override;
  void on_step_finished(const std::string& job_id, std::size_t step,
                        const Result<remote::CommandResult>& result) override;
  void on_job_finished(const std::string& job_id, const Result<void>& result) override;

 private:
  struct Running;
  struct Slot {
    std::string job_id;
    std::size_t item = 0;
  };

  // Destinations already resolved in one add() call: a batch of 1000 jobs
  // into one folder walks the filesystem once, not 1000 times.
  using ResolvedDestinations = std::map<std::string, Result<std::filesystem::path>>;
  Result<core::Job> make_job(const JobRequest& request, std::int64_t seq,
                             ResolvedDestinations& resolved) const;
  Result<std::filesystem::path> resolve_destination(const std::string& dest) const;
  std::string dedup_key(const core::Job& job) const;

  void schedule();
  bool host_has_room(const core::Job& job) const;
  void start_job(core::Job& job);
  // hf, CivitAI and S3 jobs learn their files on the resolver pool at the
  // start of every attempt (signed URLs expire); URL jobs need not.
  bool needs_resolution(const core::Job& job) const;
  // One item per source (checked; only plain URLs share a job), local or remote.
  Result<void> add_source_items(core::Job& job, const JobRequest& request) const;
  // No name given: the URL's file name, else the source (redacted).
  void name_after_source(core::Job& job) const;
  sources::ResolveOptions resolve_options(const core::Job& job) const;
  void resolve(core::Job& job, Running& run);
  void handle_resolved(const std::string& job_id, std::uint64_t run_token,
                       Result<sources::Plan> plan);
  std::filesystem::path plan_destination(const core::Job& job, const sources::Plan& plan) const;
  // The plan's files become the job's items (run.planned, run.destination).
  void adopt_plan(core::Job& job, Running& run, sources::Plan& plan) const;
  // Remote jobs (remote_jobs.cpp): commands of resource cards on an instance.
  static bool runs_cards(const core::Job& job);
  Result<void> add_remote_items(core::Job& job, const JobRequest& request) const;
  bool instance_has_room(const std::string& instance_id) const;
  void start_remote(core::Job& job, Running& run);
  void submit_remote(core::Job& job, Running& run, std::vector<remote::RemoteStep> steps,
                     std::string cancel_cleanup = {});
  // Native sources on an instance (remote_sources.cpp): fetch commands.
  Result<void> add_remote_fetch_items(core::Job& job, const JobRequest& request) const;
  void start_remote_sources(core::Job& job, Running& run);
  void start_remote_fetches(core::Job& job, Running& run,
                            const std::vector<sources::Sidecar>& sidecars);
  Running* remote_run(const std::string& job_id);
  void handle_step_started(const std::string& job_id, std::size_t step);
  void handle_step_progress(const std::string& job_id, std::size_t step,
                            const remote::progress::ProgressUpdate& update);
  void handle_step_finished(const std::string& job_id, std::size_t step,
                            const Result<remote::CommandResult>& result);
  void handle_remote_finished(const std::string& job_id, const Result<void>& result);
  void publish_install(const core::Job& job, const core::Item& item, std::string type,
                       const remote::progress::ProgressUpdate* update);
  // A remote job's attempt failed and another follows: seed 001 clients hear
  // of it at once (resource_install_progress of type "retrying").
  void publish_retrying(const core::Job& job);
  void start_items(core::Job& job, Running& run);
  void handle_progress(const transfer::TransferProgress& progress);
  void handle_finished(transfer::TransferId id, const Result<transfer::TransferResult>& result);
  void item_failed(core::Job& job, Running& run, core::Item& item, const Error& error);
  void end_run(core::Job& job);
  void conclude_stop(core::Job& job, Running& run);
  // Starts stopping a running job (pause or cancel); conclude_stop() ends it.
  void request_stop(core::Job& job, Running& run, core::Action action);
  // pause / resume / retry / cancel of a job that is not running: at once.
  void apply_idle_action(core::Job& job, core::Action action, core::JobState next);
  // Absolute, normalised: relative paths start at the first root.
  std::filesystem::path under_first_root(const std::string& path) const;
  void set_state(core::Job& job, core::JobState state, core::EventType event);
  void persist(const core::Job& job, std::function<void(Result<void>)> done = {});
  void arm_retry_timer();
  void refresh_runnable(const core::Job& job);
  void delete_partial_files(const core::Job& job) const;
  std::chrono::milliseconds backoff(int attempts);

  boost::asio::io_context& io_;
  store::DbWorker& db_;
  EventBus& bus_;
  SchedulerOptions options_;
  std::unique_ptr<transfer::Engine> engine_;

  std::unordered_map<std::string, core::Job> jobs_;  // by id; list() sorts by seq
  // Jobs that may start now or at next_attempt_at, best first.
  struct RunnableOrder {
    bool operator()(const std::pair<int, std::int64_t>& a,
                    const std::pair<int, std::int64_t>& b) const {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    }
  };
  std::map<std::pair<int, std::int64_t>, std::string, RunnableOrder> runnable_;
  std::map<std::pair<int, std::int64_t>, std::string, RunnableOrder> runnable_remote_;
  std::set<std::string> retrying_;  // ids in state retrying: the retry timer looks only here
  std::map<std::string, std::string> unfinished_by_key_;  // dedup_key -> job id
  std::map<std::string, std::unique_ptr<Running>> running_;
  std::map<transfer::TransferId, Slot> transfers_;
  std::map<std::string, int> running_per_host_;
  std::map<std::string, int> hash_mismatches_;       // per unfinished job: two mean failed
  std::map<std::string, core::Instance> instances_;  // by id
  std::unique_ptr<remote::RemoteRunner> remote_;
  std::map<std::string, int> running_on_instance_;
  std::size_t remote_running_ = 0;
  std::int64_t next_seq_ = 1;
  std::uint64_t next_run_token_ = 1;
  boost::asio::thread_pool resolvers_{2};  // blocking source resolution
  // Cleared first by the destructor: resolutions finishing later are dropped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::uint64_t bytes_downloaded_ = 0;
  boost::asio::steady_timer retry_timer_;
  std::function<void()> shutdown_done_;
  bool shutting_down_ = false;
};

}  // namespace haul::scheduler
