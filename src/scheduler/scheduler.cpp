// The queue's rules. A job's way: add() makes it (its runner prepares the
// items), schedule() starts it when a slot is free, its runner reports
// through the RunHost methods, run_finished() concludes the attempt, and
// every change of state goes through transition(), which asks
// core::next_state().
#include "scheduler/scheduler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "scheduler/run_state.hpp"

namespace haul::scheduler {

namespace fs = std::filesystem;
using core::Job;
using core::JobEvent;
using core::JobState;

Scheduler::Scheduler(store::DbWorker& db, EventBus& bus, Clock& clock, SchedulerOptions options)
    : db_(db),
      bus_(bus),
      clock_(clock),
      options_(std::move(options)),
      instances_(db, clock, options_.check_instance, [this](const std::string& id) {
        return std::any_of(jobs_.begin(), jobs_.end(), [&id](const auto& entry) {
          return entry.second.target == id && !core::is_finished(entry.second.state);
        });
      }) {
  options_.models_root = fs::weakly_canonical(fs::absolute(options_.models_root));
  if (!options_.random) {
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    options_.random = [engine] { return std::uniform_real_distribution<double>(0, 1)(*engine); };
  }
  instances_.on_change([this] { schedule(); });
}

Scheduler::~Scheduler() { clock_.cancel_wake(); }

Scheduler::JobMap::node_type Scheduler::job_node(Job job) {
  auto node = node_maker_.extract(node_maker_.emplace(std::string_view{}, std::move(job)).first);
  node.key() = node.mapped().id;
  return node;
}

void Scheduler::add_runner(JobRunner& runner) { runners_.push_back(&runner); }

Result<void> Scheduler::start() {
  if (shared()) {
    if (auto abandoned = abandon_old_leases(); !abandoned) return abandoned;
  }
  auto loaded =
      db_.call<std::vector<Job>>([](store::JobStore& store) { return store.load_jobs({}); });
  if (!loaded) return fail(loaded.error());
  auto instances = db_.call<std::vector<core::Instance>>(
      [](store::JobStore& store) { return store.load_instances(); });
  if (!instances) return fail(instances.error());
  instances_.load(std::move(*instances));
  store::WriteBatch recovered;
  for (Job& job : *loaded) {
    next_seq_ = std::max(next_seq_, job.seq + 1);
    // (A shared queue's running jobs are other nodes' runs, or a dead
    // node's: claims take those over once their lease lapses.)
    if (job.state == JobState::kRunning && !shared()) {
      // The daemon died mid-run: the job goes back to the queue and its items
      // resume from their partial files.
      requeue_interrupted(job);
      recovered.upserts.push_back(job);
      spdlog::info("job {}: was running when the daemon stopped; queued again", job.id);
    }
    Job& stored = jobs_.insert(job_node(std::move(job))).position->second;
    if (!core::is_finished(stored.state)) index_unfinished(stored);
    refresh_runnable(stored);
  }
  if (!recovered.empty()) {
    auto written = db_.call<bool>([&recovered](store::JobStore& store) -> Result<bool> {
      if (auto applied = store.apply(recovered); !applied) return fail(applied.error());
      return true;
    });
    if (!written) return fail(written.error());
  }
  started_ = true;
  next_claim_tick_ = clock_.now() + options_.claim_interval;
  arm_retry_wake();
  schedule();
  return {};
}

// ---- requests ---------------------------------------------------------------

JobRunner* Scheduler::runner_for(const core::JobRequest& request) const {
  for (JobRunner* runner : runners_) {
    if (runner->accepts(request)) return runner;
  }
  return nullptr;
}

JobRunner* Scheduler::runner_for(const Job& job) const {
  for (JobRunner* runner : runners_) {
    if (runner->runs(job)) return runner;
  }
  return nullptr;
}

std::string Scheduler::dedup_key(const Job& job) const {
  std::string key = job.target + '\n' + job.destination;
  if (auto ui_home = job.source_options->find("ui_home"); ui_home != job.source_options->end())
    key += '\n' + ui_home->second;
  const JobRunner* runner = runner_for(job);
  return key + '\n' + (runner != nullptr ? runner->identity(job) : job.source);
}

const Job* Scheduler::find_unfinished(const std::string& key) const {
  auto [first, last] = unfinished_by_key_.equal_range(std::hash<std::string>{}(key));
  for (auto it = first; it != last; ++it) {
    if (dedup_key(*it->second) == key) return it->second;
  }
  return nullptr;
}

std::unordered_multimap<std::size_t, const Job*>::iterator Scheduler::unfinished_entry(
    std::size_t hash, const Job& job) {
  auto [first, last] = unfinished_by_key_.equal_range(hash);
  auto it = std::find_if(first, last, [&job](const auto& entry) { return entry.second == &job; });
  return it == last ? unfinished_by_key_.end() : it;
}

void Scheduler::index_unfinished(const Job& job) {
  const std::size_t hash = std::hash<std::string>{}(dedup_key(job));
  if (unfinished_entry(hash, job) == unfinished_by_key_.end())
    unfinished_by_key_.emplace(hash, &job);
}

void Scheduler::unindex_unfinished(const Job& job) {
  auto it = unfinished_entry(std::hash<std::string>{}(dedup_key(job)), job);
  if (it != unfinished_by_key_.end()) unfinished_by_key_.erase(it);
}

Result<Job> Scheduler::make_job(const core::JobRequest& request, std::int64_t seq) const {
  if (request.sources.empty()) return fail(ErrorCode::kInvalidArgument, "no source given");
  if (request.sha256 && request.sources.size() > 1)
    return fail(ErrorCode::kInvalidArgument, "sha256 applies to a single source");
  JobRunner* runner = runner_for(request);
  if (runner == nullptr)
    return fail(ErrorCode::kInvalidArgument, "no way to run a job for '" + request.target + "'");
  Job job;
  job.id = core::new_job_id();
  job.seq = seq;
  job.source = request.sources.front();
  job.target = request.target;
  if (request.target == "local") {
    job.node = request.node.empty() ? options_.node : request.node;
  } else if (!request.node.empty() && request.node != "any") {
    return fail(ErrorCode::kInvalidArgument, "'node' is for local jobs: a job for instance '" +
                                                 request.target + "' runs on any node");
  }
  job.group = request.group;
  job.name = request.name;
  job.priority = request.priority;
  job.max_attempts = request.max_attempts.value_or(options_.default_max_attempts);
  if (job.max_attempts < 1)
    return fail(ErrorCode::kInvalidArgument, "max_attempts must be at least 1");
  job.labels = request.labels;
  job.created_at = clock_.now();
  job.source_options = request.source_options;
  if (!request.ui_home.empty()) job.source_options.edit()["ui_home"] = request.ui_home;
  if (auto prepared = runner->prepare(job, request); !prepared) return fail(prepared.error());
  return job;
}

void Scheduler::add(const std::vector<core::JobRequest>& requests,
                    std::function<void(Result<std::vector<AddResult>>)> done) {
  std::vector<AddResult> results;
  std::vector<Job> fresh;
  std::map<std::string, std::size_t> result_by_key;  // the same job twice in one batch
  for (const core::JobRequest& request : requests) {
    auto job = make_job(request, next_seq_);
    if (!job) return done(fail(job.error()));
    const std::string key = dedup_key(*job);
    if (const Job* twin = find_unfinished(key)) {
      results.push_back({*twin, true});
      continue;
    }
    if (auto twin = result_by_key.find(key); twin != result_by_key.end()) {
      results.push_back({results[twin->second].job, true});
      continue;
    }
    result_by_key.emplace(key, results.size());
    ++next_seq_;
    results.push_back({*job, false});
    fresh.push_back(std::move(*job));
  }
  if (fresh.empty()) return done(std::move(results));
  // Claim first: a duplicate arriving before the commit finds the job in
  // adding_, whose node then moves into jobs_ as it is.
  std::vector<std::string> ids;
  ids.reserve(fresh.size());
  for (Job& job : fresh) {
    ids.push_back(job.id);
    index_unfinished(adding_.insert(job_node(std::move(job))).position->second);
  }
  store::WriteBatch batch;
  for (const std::string& id : ids) {
    const Job& job = adding_.at(id);
    batch.upserts.push_back(job);
    // A shared queue limits hosts across nodes at claim time: the store
    // learns each local job's host here, where the runners know it.
    if (shared() && job.target == "local") {
      if (const JobRunner* runner = runner_for(job))
        batch.hosts.push_back({id, runner->host_of(job)});
    }
  }
  db_.write(std::move(batch), [this, ids = std::move(ids), results = std::move(results),
                               done = std::move(done)](Result<void> written) mutable {
    if (!written) {
      for (const std::string& id : ids) {
        auto adding = adding_.find(id);
        unindex_unfinished(adding->second);
        adding_.erase(adding);
      }
      spdlog::error("cannot store {} new job(s): {}", ids.size(), written.error().message);
      return done(fail(written.error()));
    }
    for (const std::string& id : ids) {
      Job& stored = jobs_.insert(adding_.extract(id)).position->second;
      spdlog::info("job {}: added {} item(s) from {} to {}", id, stored.items.size(), stored.name,
                   stored.destination);
      refresh_runnable(stored);
      publish(core::EventType::kAdded, stored);
    }
    done(std::move(results));
    schedule();
  });
}

void Scheduler::act(const std::string& id, core::Action action,
                    std::function<void(Result<ActResult>)> done) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return done(fail(ErrorCode::kNotFound, "no job " + id));
  Job& job = it->second;
  auto allowed = core::next_state(job.state, core::event_of(action));
  if (!allowed) return done(fail(allowed.error()));
  spdlog::info("job {}: {} requested", id, core::action_name(action));
  if (allowed->stop_run && run_of(id) == nullptr) return request_elsewhere(job, action, done);
  if (allowed->stop_run) {
    // Transfers and remote commands stop asynchronously (a remote kill takes
    // seconds): answer now; run_finished() publishes the outcome.
    request_stop(job, *runs_.at(id), action);
    // (A runner may have stopped at once: then the outcome is there already.)
    return done(ActResult{job, run_of(id) != nullptr});
  }
  apply_idle_action(job, action, [this, id, done = std::move(done)](Result<void> written) {
    if (!written) return done(fail(written.error()));
    const Job* now = find(id);
    if (now == nullptr) return done(fail(ErrorCode::kNotFound, "no job " + id));
    done(ActResult{*now, false});
  });
  schedule();
}

void Scheduler::request_elsewhere(Job& job, core::Action action,
                                  const std::function<void(Result<ActResult>)>& done) {
  // Another node runs it (this one would have a Run): the request goes
  // through the store, whose change notification reaches that node; the
  // run's end comes back as the job's changes.
  store::WriteBatch batch;
  batch.action_requests.push_back({job.id, action});
  job.pending_action = action;
  publish(core::EventType::kState, job);
  db_.write(std::move(batch), [this, id = job.id, done](Result<void> written) {
    if (!written) return done(fail(written.error()));
    const Job* now = find(id);
    if (now == nullptr) return done(fail(ErrorCode::kNotFound, "no job " + id));
    done(ActResult{*now, true});
  });
}

void Scheduler::request_stop(Job& job, Run& run, core::Action action) {
  // A cancel may follow a pause still under way; nothing else changes a stop.
  const bool upgrade = run.stopping == core::Action::kPause && action == core::Action::kCancel;
  if (run.shutdown || (run.stopping && !upgrade)) return;
  run.stopping = action;
  job.pending_action = action;
  publish(core::EventType::kState, job);
  run.runner->stop(job.id,
                   action == core::Action::kCancel ? StopReason::kCancel : StopReason::kPause);
}

void Scheduler::apply_idle_action(Job& job, core::Action action,
                                  std::function<void(Result<void>)> persisted) {
  if (action == core::Action::kCancel) {
    if (JobRunner* runner = runner_for(job)) runner->discard(job);
  }
  if (action == core::Action::kRetry) {
    job.attempts = 0;
    job.error.reset();
    for (core::Item& item : job.items) item.error.reset();
    index_unfinished(job);
  }
  job.next_attempt_at.reset();
  if (core::is_finished(core::next_state(job.state, core::event_of(action))->next))
    job.finished_at = clock_.now();
  transition(job, core::event_of(action), std::move(persisted));
}

void Scheduler::remove(const std::string& id, std::function<void(Result<void>)> done) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return done(fail(ErrorCode::kNotFound, "no job " + id));
  if (it->second.state == JobState::kRunning && run_of(id) == nullptr) {
    return done(fail(ErrorCode::kConflict,
                     "job " + id + " is running on another node: cancel it, then remove it"));
  }
  auto erase = [this, id, done = std::move(done)]() {
    auto job = jobs_.find(id);
    if (job == jobs_.end()) return done({});
    forget(job);
    store::WriteBatch batch;
    batch.deletes.push_back(id);
    add_fence(batch, id);
    db_.write(std::move(batch), [id, done](const Result<void>& written) {
      if (written) spdlog::info("job {}: removed", id);
      done(written);
    });
  };
  Job& job = it->second;
  if (core::is_finished(job.state)) return erase();
  if (Run* run = run_of(id)) {
    // The record goes once the run has stopped (a pause under way keeps
    // its partial files: they go here).
    run->waiters.emplace_back([this, erase](const Result<Job>& stopped) mutable {
      if (stopped && stopped->state != JobState::kCancelled) {
        if (JobRunner* runner = runner_for(*stopped)) runner->discard(*stopped);
      }
      erase();
    });
    return request_stop(job, *run, core::Action::kCancel);
  }
  apply_idle_action(job, core::Action::kCancel);
  erase();
}

// ---- queries ----------------------------------------------------------------

const Job* Scheduler::find(const std::string& id) const {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

std::vector<const Job*> Scheduler::list(const JobFilter& filter) const {
  // Normal form: "a/./b/" and "a/b" are one path.
  auto normal = [](fs::path p) {
    p = p.lexically_normal();
    if (!p.has_filename() && p.has_parent_path()) p = p.parent_path();
    return p;
  };
  std::optional<fs::path> wanted;
  if (filter.path) {
    fs::path p(*filter.path);
    wanted = normal(p.is_relative() ? options_.models_root / p : p);
  }
  // The file itself or anything under the folder.
  auto covers = [&](const std::string& candidate) {
    if (candidate.empty()) return false;
    const fs::path p = normal(candidate);
    const fs::path rel = p.lexically_relative(*wanted);
    return p == *wanted || (!rel.empty() && *rel.begin() != ".." && rel != ".");
  };
  std::vector<const Job*> out;
  for (const auto& [id, job] : jobs_) {
    if (filter.state && job.state != *filter.state) continue;
    if (filter.target && job.target != *filter.target) continue;
    if (filter.group && job.group != *filter.group) continue;
    if (filter.name && job.name != *filter.name) continue;
    if (wanted && !covers(job.destination) &&
        std::none_of(job.items.begin(), job.items.end(),
                     [&](const core::Item& item) { return covers(item.path); }))
      continue;
    out.push_back(&job);
  }
  std::sort(out.begin(), out.end(), [](const Job* a, const Job* b) { return a->seq < b->seq; });
  return out;
}

SchedulerStats Scheduler::stats() const {
  SchedulerStats stats;
  for (const auto& [id, job] : jobs_) {
    ++stats.jobs_by_state[job.state];
    if (job.state != JobState::kRunning) continue;
    stats.speed += job.speed;
    for (const core::Item& item : job.items)
      stats.active_items += item.state == core::ItemState::kRunning ? 1 : 0;
  }
  stats.bytes_downloaded = bytes_downloaded_;
  return stats;
}

void Scheduler::shutdown(std::function<void()> done) {
  shutting_down_ = true;
  clock_.cancel_wake();
  if (runs_.empty()) return done();
  shutdown_done_ = std::move(done);
  std::vector<std::pair<std::string, JobRunner*>> stopping;
  for (auto& [id, run] : runs_) {
    run->shutdown = true;
    // A run already stopping for a pause or cancel finishes that stop.
    if (!run->stopping) stopping.emplace_back(id, run->runner);
  }
  // (A runner may report run_finished from inside stop().)
  for (const auto& [id, runner] : stopping) runner->stop(id, StopReason::kShutdown);
}

}  // namespace haul::scheduler
