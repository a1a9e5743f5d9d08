// How a job runs: start_job() hands its items to the engine; each finished
// transfer comes back through handle_finished(); when the last transfer of a
// run has ended (completed, failed or stopped on request), conclude_stop()
// decides the job's next state in one place.
#include "scheduler/scheduler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cmath>
#include <random>

#include "scheduler/running.hpp"
#include "sources/plan_transfer.hpp"
#include "transfer/url.hpp"

namespace haul::scheduler {

namespace fs = std::filesystem;
using core::Job;
using core::JobState;

namespace {

// What per-host limits count: the URL's host, or the provider of other sources.
std::string host_of(const std::string& source) {
  auto parsed = transfer::parse_url(source);
  if (parsed) return parsed->host;
  return std::string(sources::source_kind_name(sources::classify_source(source)));
}

bool is_within(const fs::path& path, const fs::path& root) {
  auto p = path.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++p) {
    if (r->empty()) continue;  // trailing separator
    if (p == path.end() || *p != *r) return false;
  }
  return true;
}

// Permanent failures are not worth another attempt.
bool is_permanent(ErrorCode code) {
  return code == ErrorCode::kNotFound || code == ErrorCode::kPermissionDenied ||
         code == ErrorCode::kInvalidArgument || code == ErrorCode::kNoSpace ||
         code == ErrorCode::kInternal;
}

}  // namespace

Scheduler::Scheduler(boost::asio::io_context& io, store::DbWorker& db, EventBus& bus,
                     SchedulerOptions options)
    : io_(io), db_(db), bus_(bus), options_(std::move(options)), retry_timer_(io) {
  if (options_.roots.empty()) options_.roots.push_back(fs::current_path());
  for (fs::path& root : options_.roots) root = fs::weakly_canonical(fs::absolute(root));
}

Scheduler::~Scheduler() {
  *alive_ = false;
  remote_.reset();  // detaches from remote commands and joins the SSH workers
  resolvers_.join();
}

Result<void> Scheduler::start() {
  auto loaded =
      db_.call<std::vector<Job>>([](store::JobStore& store) { return store.load_jobs({}); });
  if (!loaded) return fail(loaded.error());
  auto instances = db_.call<std::vector<core::Instance>>(
      [](store::JobStore& store) { return store.load_instances(); });
  if (!instances) return fail(instances.error());
  for (core::Instance& instance : *instances) {
    const std::string id = instance.id;
    instances_.emplace(id, std::move(instance));
  }
  remote_ = std::make_unique<remote::RemoteRunner>(*this, options_.ssh);
  std::vector<Job> recovered;
  for (Job& job : *loaded) {
    next_seq_ = std::max(next_seq_, job.seq + 1);
    if (job.state == JobState::kRunning) {
      // The daemon died mid-run: the job goes back to the queue and its items
      // resume from their .part files.
      job.state = JobState::kQueued;
      for (core::Item& item : job.items) {
        if (item.state == JobState::kRunning) item.state = JobState::kQueued;
      }
      recovered.push_back(job);
      spdlog::info("job {}: was running when the daemon stopped; queued again", job.id);
    }
    if (!core::is_finished(job.state)) unfinished_by_key_[dedup_key(job)] = job.id;
    const std::string id = job.id;
    auto [it, inserted] = jobs_.emplace(id, std::move(job));
    refresh_runnable(it->second);
  }
  if (!recovered.empty()) {
    store::WriteBatch batch;
    batch.upserts = std::move(recovered);
    auto written = db_.call<bool>([&batch](store::JobStore& store) -> Result<bool> {
      if (auto applied = store.apply(batch); !applied) return fail(applied.error());
      return true;
    });
    if (!written) return fail(written.error());
  }
  options_.engine.progress_interval =
      std::min(options_.engine.progress_interval, options_.publish_interval);
  auto engine = transfer::Engine::create(options_.engine, *this);
  if (!engine) return fail(engine.error());
  engine_ = std::move(*engine);
  arm_retry_timer();
  boost::asio::post(io_, [this] { schedule(); });
  return {};
}

// ---- requests ---------------------------------------------------------------

Result<fs::path> Scheduler::resolve_destination(const std::string& dest) const {
  fs::path path(dest);
  for (const fs::path& part : path) {
    if (part == "..") {
      return fail(ErrorCode::kPermissionDenied, "destination '" + dest + "' must not contain '..'");
    }
  }
  if (path.empty()) path = options_.roots.front();
  if (path.is_relative()) path = options_.roots.front() / path;
  // Symlinks are resolved as far as the path exists, so a link pointing out
  // of a root is caught too.
  std::error_code ec;
  const fs::path resolved = fs::weakly_canonical(path, ec);
  if (ec) return fail(ErrorCode::kPermissionDenied, "destination '" + dest + "': " + ec.message());
  for (const fs::path& root : options_.roots) {
    if (is_within(resolved, root)) return resolved;
  }
  return fail(ErrorCode::kPermissionDenied, "destination '" + dest +
                                                "' is outside the allowed roots (" +
                                                options_.roots.front().string() + ")");
}

std::string Scheduler::dedup_key(const Job& job) const {
  std::string key = job.target + '\n' + job.destination;
  if (auto ui_home = job.source_options.find("ui_home"); ui_home != job.source_options.end())
    key += '\n' + ui_home->second;
  // A resolved job's items are its files; the source names the job.
  if (!runs_cards(job) && needs_resolution(job)) return key + '\n' + job.source;
  for (const core::Item& item : job.items) key += '\n' + item.source;
  return key;
}

Result<Job> Scheduler::make_job(const JobRequest& request, std::int64_t seq,
                                ResolvedDestinations& resolved) const {
  if (request.sources.empty()) return fail(ErrorCode::kInvalidArgument, "no source given");
  if (request.sha256 && request.sources.size() > 1) {
    return fail(ErrorCode::kInvalidArgument, "sha256 applies to a single source");
  }
  Job job;
  job.id = core::new_job_id();
  job.seq = seq;
  job.source = request.sources.front();
  job.target = request.target;
  job.group = request.group;
  job.priority = request.priority;
  job.max_attempts = request.max_attempts.value_or(options_.default_max_attempts);
  if (job.max_attempts < 1)
    return fail(ErrorCode::kInvalidArgument, "max_attempts must be at least 1");
  job.labels = request.labels;
  job.created_at = core::Clock::now();
  job.source_options = request.source_options;
  if (job.target != "local") {
    job.name = request.name;
    if (!request.ui_home.empty()) job.source_options["ui_home"] = request.ui_home;
    if (auto added = add_remote_items(job, request); !added) return fail(added.error());
    return job;
  }
  auto known = resolved.find(request.dest);
  if (known == resolved.end())
    known = resolved.emplace(request.dest, resolve_destination(request.dest)).first;
  const auto& destination = known->second;
  if (!destination) return fail(destination.error());
  job.destination = destination->string();
  // No destination given: a CivitAI model goes to the folder of its type.
  if (request.dest.empty()) job.source_options["auto_folder"] = "1";
  if (auto added = add_source_items(job, request); !added) return fail(added.error());
  if (resolve_options(job).hf_cache) {
    // The HF cache is where huggingface_hub looks, whatever the roots say.
    if (sources::source_kind(job.source, options_.getenv) != sources::SourceKind::kHuggingFace)
      return fail(ErrorCode::kInvalidArgument, "hf_cache applies to Hugging Face sources only");
    auto cache = sources::hf_cache_root(options_.getenv);
    if (!cache) return fail(cache.error());
    job.destination = cache->string();
  }
  job.name = request.name;
  name_after_source(job);
  return job;
}

void Scheduler::add(std::vector<JobRequest> requests,
                    std::function<void(Result<std::vector<AddResult>>)> done) {
  std::vector<AddResult> results;
  std::vector<Job> fresh;
  std::map<std::string, std::size_t> result_by_key;  // the same job twice in one batch
  ResolvedDestinations resolved;
  for (const JobRequest& request : requests) {
    auto job = make_job(request, next_seq_, resolved);
    if (!job) return done(fail(job.error()));
    const std::string key = dedup_key(*job);
    if (auto it = unfinished_by_key_.find(key); it != unfinished_by_key_.end()) {
      results.push_back({jobs_.at(it->second), true});
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
  for (const Job& job : fresh)
    unfinished_by_key_[dedup_key(job)] = job.id;  // claim before the commit
  store::WriteBatch batch;
  batch.upserts = fresh;
  db_.write(std::move(batch), [this, fresh = std::move(fresh), results = std::move(results),
                               done = std::move(done)](Result<void> written) mutable {
    if (!written) {
      for (const Job& job : fresh) unfinished_by_key_.erase(dedup_key(job));
      spdlog::error("cannot store {} new job(s): {}", fresh.size(), written.error().message);
      return done(fail(written.error()));
    }
    for (Job& job : fresh) {
      spdlog::info("job {}: added {} item(s) from {} to {}", job.id, job.items.size(),
                   transfer::redact_url(job.source), job.destination);
      const std::string id = job.id;
      Job& stored = jobs_.emplace(id, std::move(job)).first->second;
      refresh_runnable(stored);
      bus_.publish(core::EventType::kAdded, stored);
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
  const auto next = core::state_after(job.state, action);
  if (!next) {
    return done(fail(ErrorCode::kConflict, "cannot " + std::string(core::action_name(action)) +
                                               " a " + std::string(core::state_name(job.state)) +
                                               " job"));
  }
  spdlog::info("job {}: {} requested", id, core::action_name(action));
  if (auto run = running_.find(id); run != running_.end()) {
    // Transfers and remote commands stop asynchronously (a remote kill takes
    // seconds): answer now, conclude_stop() publishes the outcome.
    request_stop(job, *run->second, action);
    return done(ActResult{job, true});
  }
  apply_idle_action(job, action, *next);
  persist(job, [job, done = std::move(done)](Result<void> written) {
    if (!written) return done(fail(written.error()));
    done(ActResult{job, false});
  });
  schedule();
}

void Scheduler::request_stop(Job& job, Running& run, core::Action action) {
  if (run.stopping || run.shutdown) return;
  run.stopping = action;
  job.pending_action = action;
  for (transfer::TransferId t : run.transfers) engine_->stop(t, action == core::Action::kPause);
  // A remote job's commands are killed; its runner then reports the end.
  if (run.remote) remote_->cancel(job.id);
  bus_.publish(core::EventType::kState, job);
  // Nothing to wait for while only the plan is being fetched: its answer
  // will find the run gone and be dropped.
  if (run.resolving) conclude_stop(job, run);
}

void Scheduler::apply_idle_action(Job& job, core::Action action, JobState next) {
  if (action == core::Action::kCancel) delete_partial_files(job);
  if (action == core::Action::kRetry) {
    job.attempts = 0;
    job.error.reset();
    for (core::Item& item : job.items) {
      if (item.state != JobState::kCompleted) {
        item.error.reset();
        item.state = JobState::kQueued;
      }
    }
    unfinished_by_key_[dedup_key(job)] = job.id;
  }
  job.next_attempt_at.reset();
  if (core::is_finished(next)) job.finished_at = core::Clock::now();
  set_state(job, next,
            next == JobState::kCancelled ? core::EventType::kCancelled : core::EventType::kState);
}

void Scheduler::remove(const std::string& id, std::function<void(Result<void>)> done) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return done(fail(ErrorCode::kNotFound, "no job " + id));
  auto erase = [this, id, done = std::move(done)]() {
    auto job = jobs_.find(id);
    if (job == jobs_.end()) return done({});
    runnable_.erase({job->second.priority, job->second.seq});
    runnable_remote_.erase({job->second.priority, job->second.seq});
    retrying_.erase(id);
    unfinished_by_key_.erase(dedup_key(job->second));
    bus_.publish(core::EventType::kRemoved, job->second);
    jobs_.erase(job);
    store::WriteBatch batch;
    batch.deletes.push_back(id);
    db_.write(std::move(batch), [id, done](Result<void> written) {
      if (written) spdlog::info("job {}: removed", id);
      done(written);
    });
  };
  Job& job = it->second;
  if (core::is_finished(job.state)) return erase();
  if (auto run = running_.find(id); run != running_.end()) {
    // The record goes once the transfers have stopped and the files are gone
    // (a pause under way keeps them: delete them here).
    run->second->waiters.push_back([this, erase](Result<Job> stopped) mutable {
      if (stopped && stopped->state != JobState::kCancelled) delete_partial_files(*stopped);
      erase();
    });
    return request_stop(job, *run->second, core::Action::kCancel);
  }
  apply_idle_action(job, core::Action::kCancel, JobState::kCancelled);
  erase();
}

// ---- queries ----------------------------------------------------------------

const Job* Scheduler::find(const std::string& id) const {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

fs::path Scheduler::under_first_root(const std::string& path) const {
  fs::path p(path);
  if (p.is_relative()) p = options_.roots.front() / p;
  p = p.lexically_normal();
  if (!p.has_filename() && p.has_parent_path()) p = p.parent_path();  // "dir/" names dir
  return p;
}

std::vector<const Job*> Scheduler::list(const JobFilter& filter) const {
  std::optional<fs::path> wanted;
  if (filter.path) wanted = under_first_root(*filter.path);
  // The file itself or anything under the folder.
  auto covers = [&wanted](const std::string& candidate) {
    if (candidate.empty()) return false;
    const fs::path p = fs::path(candidate).lexically_normal();
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
    if (job.state == JobState::kRunning) stats.speed += job.speed;
  }
  stats.bytes_downloaded = bytes_downloaded_;
  stats.active_transfers = transfers_.size();
  return stats;
}

// ---- running ----------------------------------------------------------------

void Scheduler::refresh_runnable(const Job& job) {
  const auto key = std::make_pair(job.priority, job.seq);
  auto& runnable = job.target == "local" ? runnable_ : runnable_remote_;
  if (job.state == JobState::kQueued || job.state == JobState::kRetrying) {
    runnable[key] = job.id;
  } else {
    runnable.erase(key);
  }
  if (job.state == JobState::kRetrying) {
    retrying_.insert(job.id);
  } else {
    retrying_.erase(job.id);
  }
}

bool Scheduler::host_has_room(const Job& job) const {
  if (options_.max_per_host <= 0) return true;
  auto it = running_per_host_.find(host_of(job.source));
  return it == running_per_host_.end() || it->second < options_.max_per_host;
}

void Scheduler::schedule() {
  if (shutting_down_ || !engine_) return;
  const auto now = core::Clock::now();
  auto due = [&now](const Job& job) {
    return !(job.state == JobState::kRetrying && job.next_attempt_at && *job.next_attempt_at > now);
  };
  // Local downloads share max_active; remote jobs use their instance's slots.
  for (auto it = runnable_.begin();
       it != runnable_.end() &&
       static_cast<int>(running_.size() - remote_running_) < options_.max_active;) {
    Job& job = jobs_.at(it->second);
    ++it;  // start_job() takes the job out of runnable_
    if (!due(job) || !host_has_room(job)) continue;
    start_job(job);
  }
  for (auto it = runnable_remote_.begin(); it != runnable_remote_.end();) {
    Job& job = jobs_.at(it->second);
    ++it;
    if (due(job) && instance_has_room(job.target)) start_job(job);
  }
}

void Scheduler::start_job(Job& job) {
  auto run = std::make_unique<Running>();
  run->host = job.target == "local" ? host_of(job.source) : "instance " + job.target;
  ++running_per_host_[run->host];
  Running& r = *run;
  running_.emplace(job.id, std::move(run));
  ++job.attempts;
  if (!job.started_at) job.started_at = core::Clock::now();
  job.next_attempt_at.reset();
  spdlog::info("job {}: attempt {} of {} started", job.id, job.attempts, job.max_attempts);
  set_state(job, JobState::kRunning, core::EventType::kState);
  r.token = next_run_token_++;
  if (job.target != "local") {
    persist(job);
    return start_remote(job, r);
  }
  if (needs_resolution(job)) {
    persist(job);
    return resolve(job, r);
  }
  start_items(job, r);
  persist(job);
  if (r.transfers.empty()) conclude_stop(job, r);  // nothing left to fetch, or every start failed
}

void Scheduler::start_items(Job& job, Running& run) {
  for (std::size_t i = 0; i < job.items.size(); ++i) {
    if (static_cast<int>(run.transfers.size()) >= options_.item_concurrency) return;
    core::Item& item = job.items[i];
    if (item.state == JobState::kCompleted || item.state == JobState::kRunning) continue;
    if (item.state == JobState::kFailed && run.failure) continue;
    transfer::TransferRequest request;
    if (auto planned = run.planned.find(item.source); planned != run.planned.end()) {
      auto made = sources::transfer_request_for(planned->second, run.destination);
      if (!made) {
        item_failed(job, run, item, made.error());
        return;
      }
      request = std::move(*made);
    } else {
      request.url = item.source;
      request.output_dir = job.destination;
    }
    if (!item.path.empty()) {
      request.output_dir.clear();
      request.output_file = item.path;  // the same file as in earlier attempts
    }
    if (!item.sha256.empty()) request.sha256 = item.sha256;
    request.connections = options_.connections;
    request.retry = options_.transfer_retry;
    auto started = engine_->start(request);
    if (!started) {
      item.state = JobState::kFailed;
      item.error = core::JobError{std::string(error_code_name(started.error().code)),
                                  started.error().message};
      if (!run.failure) run.failure = started.error();
      return;
    }
    item.state = JobState::kRunning;
    item.error.reset();
    run.transfers.insert(*started);
    transfers_[*started] = Slot{job.id, i};
  }
}

void Scheduler::on_progress(const transfer::TransferProgress& progress) {
  boost::asio::post(io_, [this, progress] { handle_progress(progress); });
}

void Scheduler::on_finished(transfer::TransferId id,
                            const Result<transfer::TransferResult>& result) {
  boost::asio::post(io_, [this, id, result] { handle_finished(id, result); });
}

void Scheduler::handle_progress(const transfer::TransferProgress& progress) {
  auto slot = transfers_.find(progress.id);
  if (slot == transfers_.end()) return;
  Job& job = jobs_.at(slot->second.job_id);
  Running& run = *running_.at(job.id);
  core::Item& item = job.items[slot->second.item];
  if (progress.bytes_done > item.bytes_done)
    bytes_downloaded_ += progress.bytes_done - item.bytes_done;
  item.bytes_done = progress.bytes_done;
  if (progress.total) item.size = progress.total;  // a size once known stays known
  item.speed = progress.speed;
  if (!progress.destination.empty()) item.path = progress.destination.string();
  item.stage = progress.stage == transfer::TransferStage::kVerifying ? "verify" : "model";
  job.speed = 0;
  for (const core::Item& each : job.items) job.speed += each.speed;
  job.eta_seconds.reset();
  if (auto total = job.bytes_total(); total && job.speed > 0) {
    job.eta_seconds = static_cast<std::int64_t>(
        std::ceil(static_cast<double>(*total - job.bytes_done()) / job.speed));
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - run.last_publish >= options_.publish_interval) {
    run.last_publish = now;
    bus_.publish(core::EventType::kProgress, job);
  }
  if (now - run.last_persist >= options_.persist_interval) {
    run.last_persist = now;
    persist(job);
  }
}

void Scheduler::handle_finished(transfer::TransferId id,
                                const Result<transfer::TransferResult>& result) {
  auto slot_it = transfers_.find(id);
  if (slot_it == transfers_.end()) return;
  const Slot slot = slot_it->second;
  transfers_.erase(slot_it);
  Job& job = jobs_.at(slot.job_id);
  Running& run = *running_.at(job.id);
  run.transfers.erase(id);
  core::Item& item = job.items[slot.item];
  item.speed = 0;
  if (result) {
    item.state = JobState::kCompleted;
    item.path = result->destination.string();
    item.size = result->size;
    item.bytes_done = result->size;
    if (!result->sha256.empty()) item.sha256 = result->sha256;
    spdlog::info("job {}: {} done ({} bytes, sha256 {})", job.id, item.path, result->size,
                 result->sha256.empty() ? "not computed" : result->sha256);
    if (auto planned = run.planned.find(item.source); planned != run.planned.end()) {
      if (auto linked = sources::finish_planned_file(planned->second, run.destination, item.path);
          !linked)
        item_failed(job, run, item, linked.error());
    }
    if (!run.stopping && !run.shutdown && !run.failure) start_items(job, run);
    persist(job);
  } else if (result.error().code == ErrorCode::kCancelled) {
    item.state = JobState::kQueued;  // stopped on request; the run's stop decides the rest
  } else {
    item_failed(job, run, item, result.error());
  }
  if (run.transfers.empty()) conclude_stop(job, run);
}

void Scheduler::item_failed(Job& job, Running& run, core::Item& item, const Error& error) {
  item.state = JobState::kFailed;
  item.error = core::JobError{std::string(error_code_name(error.code)), error.message};
  spdlog::warn("job {}: {}", job.id, error.message);
  if (!run.failure) {
    run.failure = error;
    // One failed item fails the attempt: stop the others, keeping their bytes.
    for (transfer::TransferId t : run.transfers) engine_->stop(t, /*keep_partial=*/true);
  }
}

void Scheduler::conclude_stop(Job& job, Running& run) {
  auto waiters = std::move(run.waiters);
  const bool shutdown = run.shutdown;
  const auto stopping = run.stopping;
  const auto failure = run.failure;
  if (--running_per_host_[run.host] <= 0) running_per_host_.erase(run.host);
  if (run.remote) {
    --remote_running_;
    if (--running_on_instance_[job.target] <= 0) running_on_instance_.erase(job.target);
  }
  running_.erase(job.id);  // `run` is gone from here on
  job.speed = 0;
  job.eta_seconds.reset();
  job.pending_action.reset();

  const bool all_done = std::all_of(job.items.begin(), job.items.end(), [](const core::Item& i) {
    return i.state == JobState::kCompleted;
  });
  if (shutdown) {
    set_state(job, JobState::kQueued, core::EventType::kState);
  } else if (stopping == core::Action::kPause) {
    set_state(job, JobState::kPaused, core::EventType::kState);
  } else if (stopping == core::Action::kCancel) {
    delete_partial_files(job);
    job.finished_at = core::Clock::now();
    set_state(job, JobState::kCancelled, core::EventType::kCancelled);
  } else if (all_done) {
    job.finished_at = core::Clock::now();
    job.error.reset();
    spdlog::info("job {}: completed", job.id);
    set_state(job, JobState::kCompleted, core::EventType::kCompleted);
  } else if (failure) {
    job.error = core::JobError{std::string(error_code_name(failure->code)), failure->message};
    int& mismatches = hash_mismatches_[job.id];
    if (failure->code == ErrorCode::kDataLoss) ++mismatches;
    const bool permanent = is_permanent(failure->code) || mismatches >= 2;
    if (permanent || job.attempts >= job.max_attempts) {
      if (!permanent && job.attempts > 1)
        job.error->message += " (gave up after " + std::to_string(job.attempts) + " attempts)";
      job.finished_at = core::Clock::now();
      spdlog::error("job {}: failed: {}", job.id, job.error->message);
      set_state(job, JobState::kFailed, core::EventType::kFailed);
    } else {
      // A server's Retry-After wins over a shorter backoff of our own.
      const auto delay = std::max(backoff(job.attempts), failure->retry_after);
      job.next_attempt_at = core::Clock::now() + delay;
      spdlog::warn("job {}: attempt {} failed ({}); retrying in {} ms", job.id, job.attempts,
                   failure->message, delay.count());
      set_state(job, JobState::kRetrying, core::EventType::kState);
      if (job.target != "local") publish_retrying(job);
    }
  } else {
    // Every transfer ended without a failure but items remain: queue again.
    set_state(job, JobState::kQueued, core::EventType::kState);
  }
  persist(job, [job, waiters = std::move(waiters)](Result<void> written) {
    for (const auto& waiter : waiters) {
      if (written) {
        waiter(job);
      } else {
        waiter(fail(written.error()));
      }
    }
  });
  arm_retry_timer();
  if (shutting_down_ && running_.empty() && shutdown_done_) {
    auto done = std::move(shutdown_done_);
    shutdown_done_ = nullptr;
    return done();
  }
  schedule();
}

void Scheduler::set_state(Job& job, JobState state, core::EventType event) {
  job.state = state;
  core::settle_items(job);
  if (core::is_finished(state)) {
    unfinished_by_key_.erase(dedup_key(job));
    hash_mismatches_.erase(job.id);
  }
  refresh_runnable(job);
  bus_.publish(event, job);
}

void Scheduler::persist(const Job& job, std::function<void(Result<void>)> done) {
  store::WriteBatch batch;
  batch.upserts.push_back(job);
  db_.write(std::move(batch), [id = job.id, done = std::move(done)](Result<void> written) {
    if (!written) spdlog::error("job {}: cannot store its state: {}", id, written.error().message);
    if (done) done(written);
  });
}

std::chrono::milliseconds Scheduler::backoff(int attempts) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> draw(0.0, 1.0);
  // Attempt `attempts + 1` is next: 2 s before the second, 4 s before the third, ...
  return backoff_delay(options_.retry_backoff, std::max(attempts, 1) + 1, draw(rng));
}

void Scheduler::arm_retry_timer() {
  std::optional<core::TimePoint> earliest;
  for (const std::string& id : retrying_) {
    const Job& job = jobs_.at(id);
    if (job.state == JobState::kRetrying && job.next_attempt_at &&
        (!earliest || *job.next_attempt_at < *earliest)) {
      earliest = job.next_attempt_at;
    }
  }
  retry_timer_.cancel();
  if (!earliest) return;
  const auto wait = std::max<core::Clock::duration>(*earliest - core::Clock::now(), {});
  retry_timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait));
  retry_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // re-armed or shutting down
    schedule();
    arm_retry_timer();
  });
}

void Scheduler::delete_partial_files(const Job& job) const {
  if (job.target != "local") return;  // an instance keeps its partial files (curl -C - resumes)
  for (const core::Item& item : job.items) {
    if (item.path.empty() || item.state == JobState::kCompleted) continue;
    std::error_code ec;
    fs::remove(item.path + ".part", ec);
    fs::remove(item.path + ".part.state", ec);
  }
}

void Scheduler::shutdown(std::function<void()> done) {
  shutting_down_ = true;
  retry_timer_.cancel();
  if (running_.empty()) return done();
  shutdown_done_ = std::move(done);
  std::vector<std::string> resolving;
  for (auto& [id, run] : running_) {
    run->shutdown = true;
    for (transfer::TransferId t : run->transfers) engine_->stop(t, /*keep_partial=*/true);
    if (run->resolving) resolving.push_back(id);
    if (run->remote) remote_->detach(id);  // the command runs on; the next start re-attaches
  }
  for (const std::string& id : resolving) conclude_stop(jobs_.at(id), *running_.at(id));
}

}  // namespace haul::scheduler
