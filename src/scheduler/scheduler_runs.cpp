// Running jobs: free slots, starting attempts, what runners report
// (RunHost), concluding an attempt through the lifecycle, and the retry
// wake-up. The other half of Scheduler (requests and queries) is
// scheduler.cpp.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error_context.hpp"
#include "scheduler/run_state.hpp"
#include "scheduler/scheduler.hpp"

namespace haul::scheduler {

using core::Job;
using core::JobEvent;
using core::JobState;

// ---- slots ------------------------------------------------------------------

void Scheduler::unlist(Runnable& runnable, const Job& job) {
  auto [first, last] = runnable.equal_range({job.priority, job.seq});
  for (auto it = first; it != last; ++it) {
    if (it->second == &job) {
      runnable.erase(it);
      return;
    }
  }
}

void Scheduler::refresh_runnable(Job& job) {
  auto& runnable = job.target == "local" ? runnable_local_ : runnable_remote_;
  unlist(runnable, job);
  if (job.state == JobState::kQueued || job.state == JobState::kRetrying) {
    runnable.emplace(std::make_pair(job.priority, job.seq), &job);
    claim_wanted_ = true;
  }
  if (job.state == JobState::kRetrying) {
    retrying_.insert(job.id);
  } else {
    retrying_.erase(job.id);
  }
}

bool Scheduler::has_room(const Job& job) const {
  if (job.target != "local") {
    // An instance's own limit (several nodes: checked by the store, later).
    const core::Instance* instance = instances_.find(job.target);
    if (instance == nullptr) return false;  // waits until it is registered again
    auto running = running_on_instance_.find(job.target);
    return running == running_on_instance_.end() || running->second < instance->max_parallel;
  }
  if (local_running_ >= options_.max_active) return false;
  if (options_.max_per_host <= 0) return true;
  const JobRunner* runner = runner_for(job);
  auto it = local_per_host_.find(runner != nullptr ? runner->host_of(job) : job.source);
  return it == local_per_host_.end() || it->second < options_.max_per_host;
}

void Scheduler::schedule() {
  if (shutting_down_ || !started_) return;
  if (shared()) return claim_jobs();
  // A runner may end a run inside start(), and its conclusion schedules
  // again: that pass runs after this one instead of under its iterators.
  if (scheduling_) {
    schedule_again_ = true;
    return;
  }
  scheduling_ = true;
  do {
    schedule_again_ = false;
    const auto now = clock_.now();
    auto due = [&now](const Job& job) {
      return !(job.state == JobState::kRetrying && job.next_attempt_at &&
               *job.next_attempt_at > now);
    };
    // Local jobs share max_active: the scan stops once it is reached, so a
    // long queue costs nothing while the slots are full.
    for (auto it = runnable_local_.begin();
         it != runnable_local_.end() && local_running_ < options_.max_active;) {
      Job& job = *it->second;
      ++it;  // start_job() takes the job out of the map
      if (due(job) && has_room(job)) start_job(job);
    }
    for (auto it = runnable_remote_.begin(); it != runnable_remote_.end();) {
      Job& job = *it->second;
      ++it;
      if (due(job) && has_room(job)) start_job(job);
    }
  } while (schedule_again_ && !shutting_down_);
  scheduling_ = false;
}

void Scheduler::requeue_interrupted(Job& job) {
  job.state = core::next_state(job.state, JobEvent::kRestart)->next;
  for (core::Item& item : job.items)
    item.state = core::next_item_state(item.state, core::ItemEvent::kRestart).value();
}

void Scheduler::start_job(Job& job) {
  JobRunner* runner = runner_for(job);
  if (runner == nullptr) {
    spdlog::error("job {}: no runner for target {}", job.id, job.target);
    return;
  }
  auto run = std::make_unique<Run>();
  run->runner = runner;
  if (job.target == "local") {
    run->host = runner->host_of(job);
    ++local_per_host_[run->host];
    ++local_running_;
  } else {
    ++running_on_instance_[job.target];
    instances_.touch(job.target);
  }
  runs_.emplace(job.id, std::move(run));
  ++job.attempts;
  if (!job.started_at) job.started_at = clock_.now();
  job.next_attempt_at.reset();
  spdlog::info("job {}: attempt {} of {} started", job.id, job.attempts, job.max_attempts);
  transition(job, JobEvent::kStart);
  runner->start(job.id);
}

Scheduler::Run* Scheduler::run_of(const std::string& job_id) {
  auto it = runs_.find(job_id);
  return it == runs_.end() ? nullptr : it->second.get();
}

core::Item* Scheduler::item_of(const std::string& job_id, std::size_t index) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || run_of(job_id) == nullptr || index >= it->second.items.size())
    return nullptr;
  return &it->second.items[index];
}

// ---- what runners report ------------------------------------------------------

void Scheduler::items_planned(const std::string& job_id, std::vector<core::Item> items,
                              const std::string& name) {
  if (run_of(job_id) == nullptr) return;
  Job& job = jobs_.at(job_id);
  job.items = std::move(items);
  if (!name.empty()) job.name = name;
  publish(core::EventType::kProgress, job);
  persist(job);
}

void Scheduler::item_started(const std::string& job_id, std::size_t index) {
  core::Item* item = item_of(job_id, index);
  if (item == nullptr) return;
  auto next = core::next_item_state(item->state, core::ItemEvent::kStart);
  if (!next) return spdlog::warn("job {}: item {}: {}", job_id, index, next.error().message);
  item->state = *next;
  item->error.reset();
  if (item->extras.allocated()) item->extras.edit().percent.reset();
}

void Scheduler::item_output(const std::string& job_id, std::size_t index, std::string tail,
                            std::uint64_t lines) {
  core::Item* item = item_of(job_id, index);
  if (item == nullptr) return;
  item->extras.edit().output_tail = std::move(tail);
  item->extras.edit().output_lines = lines;
  // Stored with the next progress or the item's end (which follows the last
  // report), not on its own.
}

void Scheduler::item_progress(const std::string& job_id, std::size_t index,
                              const ItemProgress& progress) {
  core::Item* item = item_of(job_id, index);
  if (item == nullptr) return;
  Job& job = jobs_.at(job_id);
  Run& run = *run_of(job_id);
  if (progress.bytes_done > item->bytes_done)
    bytes_downloaded_ += progress.bytes_done - item->bytes_done;
  item->bytes_done = progress.bytes_done;
  if (progress.total) item->size = progress.total;  // a size once known stays known
  item->speed = progress.speed;
  if (progress.path) item->path = *progress.path;
  if (progress.stage) item->stage = *progress.stage;
  if (progress.percent) item->extras.edit().percent = progress.percent;
  job.speed = 0;
  for (const core::Item& each : job.items) job.speed += each.speed;
  // The runner's estimate, unless the bytes give one.
  job.eta_seconds.reset();
  if (progress.eta_seconds)
    job.eta_seconds = static_cast<std::int32_t>(
        std::min<std::int64_t>(*progress.eta_seconds, std::numeric_limits<std::int32_t>::max()));
  if (auto eta = job.eta_at_speed()) job.eta_seconds = eta;
  const auto now = clock_.steady_now();
  if (now - run.last_publish >= options_.publish_interval) {
    run.last_publish = now;
    publish(core::EventType::kProgress, job);
  }
  if (persist_due(run, now)) persist(job);
}

bool Scheduler::persist_due(Run& run, std::chrono::steady_clock::time_point now) const {
  if (now - run.last_persist < options_.persist_interval) return false;
  run.last_persist = now;
  return true;
}

void Scheduler::item_finished(const std::string& job_id, std::size_t index,
                              const Result<ItemOutcome>& outcome) {
  core::Item* item = item_of(job_id, index);
  if (item == nullptr) return;
  item->speed = 0;
  const core::ItemEvent event = outcome ? core::ItemEvent::kSucceeded
                                : outcome.error().code == ErrorCode::kCancelled
                                    ? core::ItemEvent::kStopped
                                    : core::ItemEvent::kFailed;
  auto next = core::next_item_state(item->state, event);
  if (!next) return spdlog::warn("job {}: item {}: {}", job_id, index, next.error().message);
  item->state = *next;
  if (outcome) {
    if (outcome->path) item->path = *outcome->path;
    if (outcome->size) {
      item->size = outcome->size;
      item->bytes_done = *outcome->size;
    } else if (item->size) {
      item->bytes_done = *item->size;
    }
    if (!outcome->sha256.empty()) item->sha256 = outcome->sha256;
    if (item->extras.allocated()) item->extras.edit().percent = 100.0;
    item->error.reset();
    spdlog::info("job {}: {} done", job_id, item->path.empty() ? item->source : item->path);
  } else if (event == core::ItemEvent::kFailed) {
    item->error = core::item_error(jobs_.at(job_id), index,
                                   std::string(error_code_name(outcome.error().code)),
                                   outcome.error().message);
    spdlog::warn("job {}: {}", job_id, core::describe(*item->error));
  }
  // A finished file is stored like progress, at most every persist_interval
  // (a job of 1,000 small files wrote itself 1,000 times): after a crash it
  // is found complete on disk and verified, not fetched again. A failure, or
  // the job's end, is stored at once.
  Run* run = run_of(job_id);
  if (run != nullptr && !persist_due(*run, clock_.steady_now()) && outcome) return;
  persist(jobs_.at(job_id));
}

void Scheduler::install_progress(const core::InstallProgress& progress) {
  bus_.publish_install(progress);
}

void Scheduler::run_finished(const std::string& job_id, const Result<void>& outcome) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || run_of(job_id) == nullptr) return;
  conclude(it->second, outcome);
}

// ---- the end of an attempt ----------------------------------------------------

void Scheduler::conclude(Job& job, const Result<void>& outcome) {
  std::unique_ptr<Run> run = std::move(runs_.at(job.id));
  runs_.erase(job.id);
  if (job.target == "local") {
    --local_running_;
    if (--local_per_host_[run->host] <= 0) local_per_host_.erase(run->host);
  } else if (--running_on_instance_[job.target] <= 0) {
    running_on_instance_.erase(job.target);
  }
  job.speed = 0;
  job.eta_seconds.reset();
  job.pending_action.reset();
  if (run->lease_lost) {
    // Another node holds the job: what this run did is not ours to write.
    for (const auto& waiter : run->waiters)
      waiter(fail(ErrorCode::kConflict, "job " + job.id + " is held by another node now"));
    reload_jobs({job.id});
    return run_ended();
  }
  const bool all_done = std::all_of(job.items.begin(), job.items.end(), [](const core::Item& i) {
    return i.state == core::ItemState::kCompleted;
  });

  JobEvent event = JobEvent::kSucceeded;
  // A pause or cancel asked for before the daemon began to stop is what
  // the user wanted: it wins over the shutdown's "queued for next time".
  if (run->stopping == core::Action::kPause) {
    event = JobEvent::kRunPaused;
  } else if (run->stopping == core::Action::kCancel) {
    event = JobEvent::kRunCancelled;
    run->runner->discard(job);
  } else if (run->shutdown) {
    event = JobEvent::kShutdown;
  } else if (outcome && all_done) {
    job.error.reset();
  } else {
    const Error failure =
        outcome ? Error{ErrorCode::kInternal, "the attempt ended with files still missing"}
                : outcome.error();
    job.error = core::job_error(job, std::string(error_code_name(failure.code)), failure.message);
    int& mismatches = hash_mismatches_[job.id];
    if (failure.code == ErrorCode::kDataLoss) ++mismatches;
    event = core::failure_event(failure.code, job.attempts, job.max_attempts, mismatches);
    if (event == JobEvent::kFailedFinal && core::is_retryable(failure.code) && job.attempts > 1)
      job.error->message += " (gave up after " + std::to_string(job.attempts) + " attempts)";
    if (event == JobEvent::kFailedRetryable) {
      // A server's Retry-After wins over a shorter backoff of our own.
      const auto delay = std::max(backoff(job.attempts), failure.retry_after);
      job.next_attempt_at = clock_.now() + delay;
      spdlog::warn("job {}: attempt {} failed, retrying in {} ms: {}", job.id, job.attempts,
                   delay.count(), core::describe(*job.error));
    } else {
      spdlog::error("job {}: failed: {}", job.id, core::describe(*job.error));
    }
  }
  if (event == JobEvent::kSucceeded) spdlog::info("job {}: completed", job.id);
  if (core::is_finished(core::next_state(JobState::kRunning, event)->next))
    job.finished_at = clock_.now();
  auto waiters = std::move(run->waiters);
  // The attempt's last state, and on a shared queue the end of its lease,
  // in one transaction.
  transition(
      job, event,
      [job, waiters = std::move(waiters)](Result<void> written) {
        for (const auto& waiter : waiters)
          waiter(written ? Result<Job>(job) : fail(written.error()));
      },
      /*release_lease=*/true);
  if (event == JobEvent::kFailedRetryable && job.target != "local") {
    // Seed 001's clients hear of each failed attempt at once.
    core::InstallProgress retrying;
    retrying.job_id = job.id;
    retrying.type = "retrying";
    retrying.name = job.name;
    retrying.attempt = job.attempts;
    retrying.max_attempts = job.max_attempts;
    retrying.error = job.error ? job.error->message : std::string();
    retrying.next_attempt_at = job.next_attempt_at;
    for (const core::Item& item : job.items) {
      if (item.state == core::ItemState::kCompleted) continue;
      retrying.resource = item.extras->resource;  // the card it stopped at
      retrying.stage = item.stage;
      break;
    }
    bus_.publish_install(retrying);
  }
  run_ended();
}

void Scheduler::run_ended() {
  claim_wanted_ = true;  // a slot is free
  arm_retry_wake();
  if (shutting_down_ && runs_.empty() && shutdown_done_) {
    auto done = std::move(shutdown_done_);
    shutdown_done_ = nullptr;
    return done();
  }
  schedule();
}

void Scheduler::transition(Job& job, JobEvent event, std::function<void(Result<void>)> persisted,
                           bool release_lease) {
  auto next = core::next_state(job.state, event);
  if (!next) {
    // The caller checked: this is a bug, and the job stays as it is.
    spdlog::error("job {}: {}", job.id, next.error().message);
    if (persisted) persisted(fail(next.error()));
    return;
  }
  job.state = next->next;
  core::settle_items(job);
  if (core::is_finished(job.state)) {
    unindex_unfinished(job);
    hash_mismatches_.erase(job.id);
  }
  refresh_runnable(job);
  publish(core::event_type_for(job.state), job);
  persist(job, std::move(persisted), release_lease);
}

void Scheduler::persist(const Job& job, std::function<void(Result<void>)> done,
                        bool release_lease) {
  store::WriteBatch batch;
  batch.upserts.push_back(job);
  add_fence(batch, job.id);
  if (auto lease = leases_.find(job.id); release_lease && lease != leases_.end()) {
    batch.releases.push_back({job.id, options_.node, lease->second});
    leases_.erase(lease);
  }
  db_.write(std::move(batch), [this, id = job.id, done = std::move(done)](Result<void> written) {
    if (!written) {
      spdlog::error("job {}: cannot store its state: {}", id, written.error().message);
      if (shared() && written.error().code == ErrorCode::kConflict) lease_lost(id);
    }
    if (done) done(written);
  });
}

void Scheduler::publish(core::EventType type, const Job& job, bool relayed) {
  bus_.publish(type, job, relayed);
}

std::chrono::milliseconds Scheduler::backoff(int attempts) {
  // Attempt `attempts + 1` is next: 2 s before the second, 4 s before the third, ...
  return backoff_delay(options_.retry_backoff, std::max(attempts, 1) + 1, options_.random());
}

void Scheduler::arm_retry_wake() {
  std::optional<core::TimePoint> earliest;
  // A shared queue is asked now and then for jobs nobody holds (a dead
  // node's), even when nothing changed here.
  if (shared()) earliest = next_claim_tick_;
  for (const std::string& id : retrying_) {
    const Job& job = jobs_.at(id);
    if (job.next_attempt_at && (!earliest || *job.next_attempt_at < *earliest))
      earliest = job.next_attempt_at;
  }
  if (!earliest || shutting_down_) return clock_.cancel_wake();
  clock_.wake_at(*earliest, [this] {
    if (shared() && clock_.now() >= next_claim_tick_) {
      next_claim_tick_ = clock_.now() + options_.claim_interval;
      claim_wanted_ = true;
    }
    schedule();
    arm_retry_wake();
  });
}

}  // namespace haul::scheduler
