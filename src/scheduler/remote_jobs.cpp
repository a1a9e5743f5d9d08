// Remote jobs: commands run on a registered instance by the RemoteRunner,
// from resource cards (here) or made from native sources (remote_sources.cpp).
// Each command is an item (a card's, with the card it comes from);
// the parsed output of the tools becomes item progress, the install channel's
// stage_start / progress / stage_complete, and the job's end goes through
// conclude_stop() like any other run. Control thread, except the
// RemoteObserver callbacks, which only post.
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <cmath>

#include "scheduler/running.hpp"
#include "scheduler/scheduler.hpp"
#include "transfer/url.hpp"

namespace haul::scheduler {

using core::Job;
using core::JobState;
using remote::progress::ProgressUpdate;

namespace {

bool is_card_path(const std::string& source) { return source.ends_with(".md"); }

}  // namespace

bool Scheduler::runs_cards(const Job& job) {
  return job.target != "local" && !job.items.empty() && !job.items.front().resource.empty();
}

// ---- instances --------------------------------------------------------------

void Scheduler::put_instance(core::Instance instance,
                             std::function<void(Result<core::Instance>)> done) {
  if (instance.id.empty() || instance.id == "local")
    return done(fail(ErrorCode::kInvalidArgument, "an instance needs an id other than 'local'"));
  if (auto endpoint = remote::endpoint_from_command(instance.ssh_command); !endpoint)
    return done(fail(endpoint.error()));
  if (instance.ui_home.empty()) instance.ui_home = core::kDefaultUiHome;
  if (instance.max_parallel < 1) instance.max_parallel = 1;
  if (auto known = instances_.find(instance.id); known != instances_.end()) {
    instance.created_at = known->second.created_at;
    instance.last_used_at = known->second.last_used_at;
  } else {
    instance.created_at = core::Clock::now();
  }
  store::WriteBatch batch;
  batch.instance_upserts.push_back(instance);
  db_.write(std::move(batch), [this, instance, done = std::move(done)](Result<void> written) {
    if (!written) return done(fail(written.error()));
    instances_[instance.id] = instance;
    spdlog::info("instance {}: {} (UI_HOME {})", instance.id, instance.ssh_command,
                 instance.ui_home);
    done(instance);
    schedule();
  });
}

void Scheduler::remove_instance(const std::string& id, std::function<void(Result<void>)> done) {
  if (instances_.count(id) == 0) return done(fail(ErrorCode::kNotFound, "no instance " + id));
  for (const auto& [job_id, job] : jobs_) {
    if (job.target == id && !core::is_finished(job.state)) {
      return done(fail(ErrorCode::kConflict,
                       "instance " + id + " has unfinished job " + job_id + ": cancel it first"));
    }
  }
  store::WriteBatch batch;
  batch.instance_deletes.push_back(id);
  db_.write(std::move(batch), [this, id, done = std::move(done)](Result<void> written) {
    if (written) instances_.erase(id);
    done(written);
  });
}

void Scheduler::prune_instances(std::chrono::milliseconds older_than,
                                std::function<void(Result<std::vector<std::string>>)> done) {
  const auto cutoff = core::Clock::now() - older_than;
  std::set<std::string> busy;
  for (const auto& [job_id, job] : jobs_) {
    if (!core::is_finished(job.state)) busy.insert(job.target);
  }
  std::vector<std::string> unused;
  store::WriteBatch batch;
  for (const auto& [id, instance] : instances_) {
    if (busy.count(id) != 0) continue;
    if (instance.last_used_at.value_or(instance.created_at) > cutoff) continue;
    unused.push_back(id);
    batch.instance_deletes.push_back(id);
  }
  if (unused.empty()) return done(std::move(unused));
  db_.write(std::move(batch), [this, unused, done = std::move(done)](Result<void> written) {
    if (!written) return done(fail(written.error()));
    for (const std::string& id : unused) {
      instances_.erase(id);
      spdlog::info("instance {}: pruned (unused)", id);
    }
    done(unused);
  });
}

const core::Instance* Scheduler::find_instance(const std::string& id) const {
  auto it = instances_.find(id);
  return it == instances_.end() ? nullptr : &it->second;
}

std::vector<const core::Instance*> Scheduler::instances() const {
  std::vector<const core::Instance*> out;
  for (const auto& [id, instance] : instances_) out.push_back(&instance);
  return out;
}

// ---- jobs ---------------------------------------------------------------------

Result<void> Scheduler::add_remote_items(Job& job, const JobRequest& request) const {
  const core::Instance* instance = find_instance(request.target);
  if (instance == nullptr) {
    return fail(ErrorCode::kInvalidArgument,
                "unknown target '" + request.target +
                    "': register it first (haul instances add, POST /api/v1/instances)");
  }
  const auto cards = std::count_if(request.sources.begin(), request.sources.end(), is_card_path);
  if (cards == 0) return add_remote_fetch_items(job, request);
  if (cards != static_cast<long>(request.sources.size())) {
    return fail(ErrorCode::kInvalidArgument,
                "resource cards and other sources cannot share a job: queue them separately");
  }
  if (options_.library == nullptr)
    return fail(ErrorCode::kInvalidArgument, "this daemon has no resource library");
  std::string names;
  for (const std::string& source : request.sources) {
    auto card = options_.library->load(source);
    if (!card) return fail(card.error());
    for (const std::string& command : card->commands) {
      core::Item item;
      item.source = command;
      item.resource = card->path;
      item.stage = "model";
      job.items.push_back(std::move(item));
    }
    names += (names.empty() ? "" : ", ") + card->name;
  }
  // The request's UI_HOME belongs to this job; the instance's is a default.
  job.destination = request.ui_home.empty() ? instance->ui_home : request.ui_home;
  if (job.name.empty()) job.name = names;
  return {};
}

bool Scheduler::instance_has_room(const std::string& instance_id) const {
  const core::Instance* instance = find_instance(instance_id);
  if (instance == nullptr) return false;
  auto it = running_on_instance_.find(instance_id);
  return it == running_on_instance_.end() || it->second < instance->max_parallel;
}

void Scheduler::start_remote(Job& job, Running& run) {
  run.remote = true;
  ++remote_running_;
  ++running_on_instance_[job.target];
  if (auto instance = instances_.find(job.target); instance != instances_.end()) {
    instance->second.last_used_at = core::Clock::now();
    store::WriteBatch batch;
    batch.instance_upserts.push_back(instance->second);
    db_.write(std::move(batch));
  }
  if (!runs_cards(job)) return start_remote_sources(job, run);
  std::vector<remote::RemoteStep> steps;
  for (const core::Item& item : job.items) {
    steps.push_back(remote::RemoteStep{item.source, {}});
    if (!item.resource.empty() && run.card_names.count(item.resource) == 0 && options_.library) {
      auto card = options_.library->load(item.resource);
      run.card_names[item.resource] = card ? card->name : item.resource;
    }
  }
  submit_remote(job, run, std::move(steps));
}

void Scheduler::submit_remote(Job& job, Running& run, std::vector<remote::RemoteStep> steps,
                              std::string cancel_cleanup) {
  const core::Instance* instance = find_instance(job.target);
  if (instance == nullptr) {  // removed while the job waited
    run.failure = Error{ErrorCode::kNotFound, "instance " + job.target + " is gone"};
    return conclude_stop(job, run);
  }
  remote::RemoteJob spec;
  spec.job_id = job.id;
  spec.instance_id = instance->id;
  spec.ssh_command = instance->ssh_command;
  // A card job carries its UI_HOME as its destination; other jobs may name
  // one of their own, else the instance's applies.
  spec.ui_home = runs_cards(job) ? job.destination : instance->ui_home;
  if (auto own = job.source_options.find("ui_home"); own != job.source_options.end())
    spec.ui_home = own->second;
  spec.timeout = options_.command_timeout;
  spec.steps = std::move(steps);
  spec.cancel_cleanup = std::move(cancel_cleanup);
  spec.first_step = job.items.size();
  for (std::size_t i = 0; i < job.items.size(); ++i) {
    core::Item& item = job.items[i];
    // Finished commands of an earlier run are not run again; the rest are.
    if (item.state != JobState::kCompleted) {
      spec.first_step = std::min(spec.first_step, i);
      item.state = JobState::kQueued;
      item.error.reset();
    }
  }
  spdlog::info("job {}: {} command(s) on instance {}, from command {}", job.id, spec.steps.size(),
               instance->id, spec.first_step + 1);
  remote_->submit(std::move(spec));
}

Scheduler::Running* Scheduler::remote_run(const std::string& job_id) {
  auto it = running_.find(job_id);
  return it == running_.end() || !it->second->remote ? nullptr : it->second.get();
}

// ---- progress from the SSH workers --------------------------------------------

void Scheduler::on_step_started(const std::string& job_id, std::size_t step) {
  boost::asio::post(io_, [this, alive = alive_, job_id, step] {
    if (*alive) handle_step_started(job_id, step);
  });
}

void Scheduler::on_step_progress(const std::string& job_id, std::size_t step,
                                 const ProgressUpdate& update) {
  boost::asio::post(io_, [this, alive = alive_, job_id, step, update] {
    if (*alive) handle_step_progress(job_id, step, update);
  });
}

void Scheduler::on_step_finished(const std::string& job_id, std::size_t step,
                                 const Result<remote::CommandResult>& result) {
  boost::asio::post(io_, [this, alive = alive_, job_id, step, result] {
    if (*alive) handle_step_finished(job_id, step, result);
  });
}

void Scheduler::on_job_finished(const std::string& job_id, const Result<void>& result) {
  boost::asio::post(io_, [this, alive = alive_, job_id, result] {
    if (*alive) handle_remote_finished(job_id, result);
  });
}

void Scheduler::publish_install(const Job& job, const core::Item& item, std::string type,
                                const ProgressUpdate* update) {
  core::InstallProgress progress;
  progress.job_id = job.id;
  progress.resource = item.resource;
  progress.type = std::move(type);
  progress.stage = item.stage;
  progress.name = job.name;  // a job of native sources has no card
  if (auto run = running_.find(job.id); run != running_.end()) {
    auto name = run->second->card_names.find(item.resource);
    if (name != run->second->card_names.end()) progress.name = name->second;
  }
  if (update != nullptr) {
    if (!update->stage.empty()) progress.stage = update->stage;
    if (!update->name.empty() && progress.type == "progress") progress.name = update->name;
    progress.percent = update->percent;
    progress.downloaded = update->downloaded;
    progress.total = update->total;
    progress.speed = update->speed;
    progress.elapsed_seconds = update->elapsed_seconds;
    progress.remaining_seconds = update->remaining_seconds;
    if (auto run = running_.find(job.id); !progress.elapsed_seconds && run != running_.end()) {
      // wget and curl do not print the time spent: count it from the step's start.
      progress.elapsed_seconds = std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::steady_clock::now() - run->second->step_started)
                                     .count();
    }
    if (!progress.remaining_seconds && progress.total && progress.downloaded && progress.speed &&
        *progress.speed > 0 && *progress.total >= *progress.downloaded) {
      progress.remaining_seconds = static_cast<std::int64_t>(
          std::ceil(static_cast<double>(*progress.total - *progress.downloaded) / *progress.speed));
    }
  }
  bus_.publish_install(progress);
}

void Scheduler::publish_retrying(const Job& job) {
  core::InstallProgress progress;
  progress.job_id = job.id;
  progress.type = "retrying";
  progress.name = job.name;
  progress.attempt = job.attempts;
  progress.max_attempts = job.max_attempts;
  progress.error = job.error ? job.error->message : std::string();
  progress.next_attempt_at = job.next_attempt_at;
  for (const core::Item& item : job.items) {
    if (item.state == JobState::kCompleted) continue;
    progress.resource = item.resource;  // the card it stopped at
    progress.stage = item.stage;
    break;
  }
  bus_.publish_install(progress);
}

namespace {

// The first and last command of each card frame its stage_start / stage_complete.
bool first_of_resource(const Job& job, std::size_t step) {
  return step == 0 || job.items[step - 1].resource != job.items[step].resource;
}

bool last_of_resource(const Job& job, std::size_t step) {
  return step + 1 == job.items.size() || job.items[step + 1].resource != job.items[step].resource;
}

}  // namespace

void Scheduler::handle_step_started(const std::string& job_id, std::size_t step) {
  Running* run = remote_run(job_id);
  if (run == nullptr) return;
  Job& job = jobs_.at(job_id);
  core::Item& item = job.items.at(step);
  item.state = JobState::kRunning;
  item.percent.reset();
  run->step_started = std::chrono::steady_clock::now();
  if (first_of_resource(job, step)) publish_install(job, item, "stage_start", nullptr);
  bus_.publish(core::EventType::kProgress, job);
}

void Scheduler::handle_step_progress(const std::string& job_id, std::size_t step,
                                     const ProgressUpdate& update) {
  Running* run = remote_run(job_id);
  if (run == nullptr) return;
  Job& job = jobs_.at(job_id);
  core::Item& item = job.items.at(step);
  if (update.kind == ProgressUpdate::Kind::kError) {
    item.error = core::JobError{"command", update.message};
    return;
  }
  if (update.kind != ProgressUpdate::Kind::kProgress) return;
  if (!update.stage.empty()) item.stage = update.stage;
  if (update.percent) item.percent = update.percent;
  if (update.total) item.size = update.total;
  if (update.downloaded) item.bytes_done = *update.downloaded;
  item.speed = update.speed.value_or(0);
  job.speed = item.speed;
  job.eta_seconds = update.remaining_seconds;
  const auto now = std::chrono::steady_clock::now();
  if (now - run->last_publish >= options_.publish_interval) {
    run->last_publish = now;
    publish_install(job, item, "progress", &update);
    bus_.publish(core::EventType::kProgress, job);
  }
  if (now - run->last_persist >= options_.persist_interval) {
    run->last_persist = now;
    persist(job);
  }
}

void Scheduler::handle_step_finished(const std::string& job_id, std::size_t step,
                                     const Result<remote::CommandResult>& result) {
  Running* run = remote_run(job_id);
  if (run == nullptr) return;
  Job& job = jobs_.at(job_id);
  core::Item& item = job.items.at(step);
  item.speed = 0;
  const bool ok = result && result->exit_status == 0 && !result->cancelled && !result->timed_out;
  if (ok) {
    item.state = JobState::kCompleted;
    item.error.reset();
    item.percent = 100.0;
    if (item.size) item.bytes_done = *item.size;
    if (last_of_resource(job, step)) publish_install(job, item, "stage_complete", nullptr);
  } else if (result && result->cancelled) {
    item.state = JobState::kQueued;
  } else {
    item.state = JobState::kFailed;
  }
  persist(job);
}

void Scheduler::handle_remote_finished(const std::string& job_id, const Result<void>& result) {
  Running* run = remote_run(job_id);
  if (run == nullptr) return;
  Job& job = jobs_.at(job_id);
  if (!result && result.error().code != ErrorCode::kCancelled) {
    run->failure = result.error();
    for (core::Item& item : job.items) {
      if (item.state == JobState::kFailed && !item.error)
        item.error = core::JobError{std::string(error_code_name(result.error().code)),
                                    result.error().message};
      if (item.state == JobState::kRunning) item.state = JobState::kQueued;
    }
  }
  conclude_stop(job, *run);
}

}  // namespace haul::scheduler
