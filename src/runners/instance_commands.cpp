#include "runners/instance_commands.hpp"

#include <spdlog/spdlog.h>

#include <cmath>

namespace haul::runners {

using core::Job;
using remote::progress::ProgressUpdate;

namespace {

// Seed 001's stream at most this often per job (tools print many times a second).
constexpr std::chrono::milliseconds kPublishInterval{250};

// The first and last command of each card frame its stage_start / stage_complete.
bool first_of_resource(const Job& job, std::size_t step) {
  return step == 0 || job.items[step - 1].extras->resource != job.items[step].extras->resource;
}

bool last_of_resource(const Job& job, std::size_t step) {
  return step + 1 == job.items.size() ||
         job.items[step + 1].extras->resource != job.items[step].extras->resource;
}

}  // namespace

InstanceCommands::InstanceCommands(scheduler::RunHost& host, Post post, remote::SessionOptions ssh,
                                   std::chrono::seconds command_timeout)
    : host_(host),
      post_(std::move(post)),
      command_timeout_(command_timeout),
      remote_(std::make_unique<remote::RemoteRunner>(*this, std::move(ssh))) {}

InstanceCommands::~InstanceCommands() {
  *alive_ = false;
  remote_.reset();  // detaches from remote commands and joins the SSH workers
}

void InstanceCommands::submit(const Job& job, const core::Instance& instance,
                              const std::string& ui_home, std::vector<remote::RemoteStep> steps,
                              std::map<std::string, std::string> card_names,
                              std::string cancel_cleanup) {
  remote::RemoteJob spec;
  spec.job_id = job.id;
  spec.instance_id = instance.id;
  spec.ssh_command = instance.ssh_command;
  spec.ui_home = ui_home;
  spec.timeout = command_timeout_;
  spec.steps = std::move(steps);
  spec.cancel_cleanup = std::move(cancel_cleanup);
  // Finished commands of an earlier run are not run again; the rest are.
  spec.first_step = job.items.size();
  for (std::size_t i = 0; i < job.items.size(); ++i) {
    if (job.items[i].state != core::ItemState::kCompleted) {
      spec.first_step = i;
      break;
    }
  }
  running_[job.id] = Running{std::move(card_names)};
  spdlog::info("job {}: {} command(s) on instance {}, from command {}", job.id, spec.steps.size(),
               instance.id, spec.first_step + 1);
  remote_->submit(std::move(spec));
}

void InstanceCommands::stop(const std::string& job_id, scheduler::StopReason reason) {
  if (reason == scheduler::StopReason::kShutdown) {
    remote_->detach(job_id);  // the command runs on; the next start re-attaches
  } else {
    remote_->cancel(job_id);
  }
}

// ---- from the SSH workers -------------------------------------------------------

void InstanceCommands::on_step_started(const std::string& job_id, std::size_t step) {
  post_([this, alive = alive_, job_id, step] {
    if (*alive) step_started(job_id, step);
  });
}

void InstanceCommands::on_step_progress(const std::string& job_id, std::size_t step,
                                        const ProgressUpdate& update) {
  post_([this, alive = alive_, job_id, step, update] {
    if (*alive) step_progress(job_id, step, update);
  });
}

void InstanceCommands::on_step_finished(const std::string& job_id, std::size_t step,
                                        const Result<remote::CommandResult>& result) {
  post_([this, alive = alive_, job_id, step, result] {
    if (*alive) step_finished(job_id, step, result);
  });
}

void InstanceCommands::on_step_output(const std::string& job_id, std::size_t step,
                                      const std::string& tail, std::uint64_t lines) {
  post_([this, alive = alive_, job_id, step, tail = std::string(tail), lines]() mutable {
    if (*alive) host_.item_output(job_id, step, std::move(tail), lines);
  });
}

void InstanceCommands::on_job_finished(const std::string& job_id, const Result<void>& result) {
  post_([this, alive = alive_, job_id, result] {
    if (*alive) job_finished(job_id, result);
  });
}

// ---- on the control thread --------------------------------------------------------

void InstanceCommands::publish(const Job& job, const core::Item& item, std::string type,
                               const ProgressUpdate* update) {
  core::InstallProgress progress;
  progress.job_id = job.id;
  progress.resource = item.extras->resource;
  progress.type = std::move(type);
  progress.stage = item.stage;
  progress.name = job.name;  // a job of native sources has no card
  auto running = running_.find(job.id);
  if (running != running_.end()) {
    auto name = running->second.card_names.find(item.extras->resource);
    if (name != running->second.card_names.end()) progress.name = name->second;
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
    if (!progress.elapsed_seconds && running != running_.end()) {
      // wget and curl do not print the time spent: count it from the step's start.
      progress.elapsed_seconds =
          std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                           running->second.step_started)
              .count();
    }
    if (!progress.remaining_seconds && progress.total && progress.downloaded && progress.speed &&
        *progress.speed > 0 && *progress.total >= *progress.downloaded) {
      progress.remaining_seconds = static_cast<std::int64_t>(
          std::ceil(static_cast<double>(*progress.total - *progress.downloaded) / *progress.speed));
    }
  }
  host_.install_progress(progress);
}

void InstanceCommands::step_started(const std::string& job_id, std::size_t step) {
  const Job* job = host_.job(job_id);
  auto running = running_.find(job_id);
  if (job == nullptr || running == running_.end() || step >= job->items.size()) return;
  running->second.step_started = std::chrono::steady_clock::now();
  host_.item_started(job_id, step);
  if (first_of_resource(*job, step)) publish(*job, job->items[step], "stage_start", nullptr);
  scheduler::ItemProgress started;  // a progress event tells the channels it runs
  started.bytes_done = job->items[step].bytes_done;
  host_.item_progress(job_id, step, started);
}

void InstanceCommands::step_progress(const std::string& job_id, std::size_t step,
                                     const ProgressUpdate& update) {
  const Job* job = host_.job(job_id);
  auto running = running_.find(job_id);
  if (job == nullptr || running == running_.end() || step >= job->items.size()) return;
  if (update.kind != ProgressUpdate::Kind::kProgress) return;
  scheduler::ItemProgress progress;
  progress.bytes_done = update.downloaded.value_or(job->items[step].bytes_done);
  progress.total = update.total;
  progress.speed = update.speed.value_or(0);
  if (!update.stage.empty()) progress.stage = update.stage;
  progress.percent = update.percent;
  progress.eta_seconds = update.remaining_seconds;
  host_.item_progress(job_id, step, progress);
  const auto now = std::chrono::steady_clock::now();
  if (now - running->second.last_publish >= kPublishInterval) {
    running->second.last_publish = now;
    publish(*host_.job(job_id), host_.job(job_id)->items[step], "progress", &update);
  }
}

void InstanceCommands::step_finished(const std::string& job_id, std::size_t step,
                                     const Result<remote::CommandResult>& result) {
  const Job* job = host_.job(job_id);
  if (job == nullptr || running_.count(job_id) == 0 || step >= job->items.size()) return;
  const bool ok = result && result->exit_status == 0 && !result->cancelled && !result->timed_out;
  if (ok) {
    host_.item_finished(job_id, step, scheduler::ItemOutcome{});
    job = host_.job(job_id);
    if (last_of_resource(*job, step)) publish(*job, job->items[step], "stage_complete", nullptr);
  } else if (result && result->cancelled) {
    host_.item_finished(job_id, step, fail(ErrorCode::kCancelled, "stopped"));
  } else {
    host_.item_finished(job_id, step,
                        result ? Result<scheduler::ItemOutcome>(
                                     fail(ErrorCode::kCommandFailed, "the command failed"))
                               : Result<scheduler::ItemOutcome>(fail(result.error())));
  }
}

void InstanceCommands::job_finished(const std::string& job_id, const Result<void>& result) {
  if (running_.erase(job_id) == 0) return;
  const Job* job = host_.job(job_id);
  if (job == nullptr) return;
  for (std::size_t i = 0; i < job->items.size(); ++i) {
    // Cut off (a lost connection, a stop): resumable.
    if (job->items[i].state == core::ItemState::kRunning)
      host_.item_finished(job_id, i, fail(ErrorCode::kCancelled, "stopped"));
  }
  host_.run_finished(job_id, result);
}

}  // namespace haul::runners
