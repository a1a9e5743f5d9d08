#include "remote/remote_runner.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <optional>

#include "remote/command_failure.hpp"
#include "remote/output_paths.hpp"
#include "remote/output_tail.hpp"
#include "remote/progress/progress_parser.hpp"
#include "remote/ssh_command.hpp"
#include "remote/ssh_script.hpp"

namespace haul::remote {

namespace {

// The last non-empty line of `text`, for failure messages.
std::string last_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.remove_suffix(1);
  const auto start = text.find_last_of("\r\n");
  std::string line(start == std::string_view::npos ? text : text.substr(start + 1));
  if (line.size() > 300) line = line.substr(0, 300) + "...";
  return line;
}

// Where a step's durable run lives on the instance, under $HOME: per job, per
// step, and per command text, so that a step whose command changed (a source
// resolved to another file) never attaches to the old one.
constexpr std::string_view kRunsRoot = ".cache/haul/runs/";
// How often a running step's output tail is reported.
constexpr std::chrono::milliseconds kOutputInterval{500};

std::string job_run_root(const std::string& job_id) {
  std::string safe;
  for (char c : job_id) safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '_';
  return std::string(kRunsRoot) + safe;
}

std::string step_run_dir(const std::string& job_id, std::size_t step, const std::string& command) {
  std::uint64_t hash = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : command) hash = (hash ^ c) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return job_run_root(job_id) + "/" + std::to_string(step) + "-" + hex;
}

// Whether a finished command succeeded. Errors: what went wrong, in one line.
Result<void> judge_step(const Result<CommandResult>& result, const std::string& what,
                        std::chrono::seconds timeout, std::string_view tool, bool completed,
                        const std::string& tool_error) {
  if (!result) return fail(result.error());
  if (result->detached)
    return fail(ErrorCode::kCancelled, "detached: " + what + " runs on at the instance");
  if (result->cancelled) return fail(ErrorCode::kCancelled, "cancelled");
  if (result->timed_out) {
    return fail(ErrorCode::kUnavailable,
                what + " timed out after " + std::to_string(timeout.count()) + " s");
  }
  // civitdl reports a failed model and still exits 0.
  if (result->exit_status == 0 && tool == "civitdl" && !completed && !tool_error.empty())
    return fail(command_failure_code(tool_error), what + " (civitdl) failed: " + tool_error);
  if (result->exit_status != 0) {
    const std::string reason = tool_error.empty() ? last_line(result->stderr_tail) : tool_error;
    return fail(command_failure_code(reason), what + " exited with status " +
                                                  std::to_string(result->exit_status) +
                                                  (reason.empty() ? "" : ": " + reason));
  }
  return {};
}

}  // namespace

Result<SshEndpoint> endpoint_from_command(std::string_view ssh_command) {
  auto target = parse_ssh_command(ssh_command);
  if (!target) return fail(target.error());
  SshEndpoint endpoint;
  endpoint.host = target->host;
  endpoint.port = target->port;
  endpoint.user = target->user;
  endpoint.identity_files = target->identity_files;
  endpoint.options = target->options;
  endpoint.jump_hosts = target->jump_hosts;
  if (!endpoint.jump_hosts.empty()) {  // a bad hop is refused now, not at the first connect
    if (auto proxy = jump_proxy_command(endpoint.jump_hosts, {}); !proxy)
      return fail(proxy.error());
  }
  return endpoint;
}

namespace {

// What a failed or cancelled command may have left: its run directory (with
// the record of what existed when it started) and the files it wrote.
struct Leftovers {
  std::string run_dir;
  std::vector<std::string> paths;
};

// The files to remove after `plan`'s command failed: named by the command or
// the tools, not reported complete, not .part names (kept for resuming).
std::vector<std::string> removable(const OutputPlan& plan, const OutputPathLearner& learner) {
  std::vector<std::string> paths;
  auto consider = [&](const std::string& path) {
    if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".part") == 0) return;
    if (learner.completed().count(path) != 0) return;
    if (std::find(paths.begin(), paths.end(), path) == paths.end()) paths.push_back(path);
  };
  for (const std::string& path : plan.files) consider(path);
  for (const std::string& path : learner.written()) consider(path);
  return paths;
}

}  // namespace

// One thread running one job at a time, owning its SSH session. Fields marked
// "guarded" are shared with the control thread (under RemoteRunner::mutex_).
struct RemoteRunner::Worker {
  std::thread thread;
  std::string running_job;  // guarded
  std::atomic<bool> cancel_running{false};
  std::atomic<bool> detach_running{false};  // leave the running command be (daemon stopping)

  std::unique_ptr<SshSession> session;  // worker thread only
  std::optional<Leftovers> leftovers;   // worker thread only: of the job's failed step

  Result<void> run_job(const RemoteJob& job, RemoteObserver& observer,
                       const SessionOptions& options);
  Result<SshSession*> connected(const RemoteJob& job, const SessionOptions& options);
  void tidy_up(const RemoteJob& job, const Result<void>& result);
  void run_quietly(const RemoteJob& job, const std::string& command);
};

// One instance: the jobs waiting for a worker, and its workers. All guarded.
struct RemoteRunner::Instance {
  std::condition_variable wake;  // a job was queued, or the runner stops
  std::deque<RemoteJob> queue;
  std::vector<std::unique_ptr<Worker>> workers;
  std::size_t idle = 0;  // workers not running a job (started ones included)
};

// After a job: a failed or cancelled command's files go, a cancelled job's
// leftovers go (cancel_cleanup), and a job that ended (not one left running,
// nor one cut off by a lost connection, whose retry re-attaches) needs its
// run files no more. The files go first: the removal reads the run's record.
void RemoteRunner::Worker::tidy_up(const RemoteJob& job, const Result<void>& result) {
  const bool detached = detach_running;
  const bool cut_off = !result && result.error().code == ErrorCode::kUnavailable;
  if (leftovers && !detached && !leftovers->paths.empty())
    run_quietly(job, build_output_removal(leftovers->run_dir, leftovers->paths));
  leftovers.reset();
  if (!result && result.error().code == ErrorCode::kCancelled && !detached &&
      !job.cancel_cleanup.empty())
    run_quietly(job, job.cancel_cleanup);
  if (!detached && !cut_off)
    run_quietly(job, "rm -rf -- \"${HOME:-/tmp}\"/" + single_quote(job_run_root(job.job_id)));
}

void RemoteRunner::Worker::run_quietly(const RemoteJob& job, const std::string& command) {
  if (!session || !session->alive()) return;
  CommandSpec spec;
  spec.command = command;
  spec.env["UI_HOME"] = job.ui_home;
  spec.timeout = std::chrono::seconds(30);
  const std::atomic<bool> never{false};
  auto done = session->run(
      spec, [](std::string_view, bool) {}, never);
  if (!done || done->exit_status != 0)
    spdlog::debug("job {}: clean-up on instance {} failed", job.job_id, job.instance_id);
}

Result<SshSession*> RemoteRunner::Worker::connected(const RemoteJob& job,
                                                    const SessionOptions& options) {
  if (session && session->alive()) return session.get();
  session.reset();  // dropped: connect again
  auto endpoint = endpoint_from_command(job.ssh_command);
  if (!endpoint) return fail(endpoint.error());
  auto made = SshSession::connect(*endpoint, options);
  if (!made) return fail(made.error());
  session = std::move(*made);
  return session.get();
}

Result<void> RemoteRunner::Worker::run_job(const RemoteJob& job, RemoteObserver& observer,
                                           const SessionOptions& options) {
  for (std::size_t i = job.first_step; i < job.steps.size(); ++i) {
    if (cancel_running) return fail(ErrorCode::kCancelled, "cancelled");
    if (detach_running)
      return fail(ErrorCode::kCancelled, "detached before command " + std::to_string(i + 1));
    auto ssh = connected(job, options);
    if (!ssh) return fail(ssh.error());
    observer.on_step_started(job.job_id, i);
    const RemoteStep& step = job.steps[i];
    CommandSpec spec;
    spec.command = step.command;
    spec.env = step.env;
    spec.env["UI_HOME"] = job.ui_home;
    spec.timeout = job.timeout;
    spec.run_dir = step_run_dir(job.job_id, i, step.command);
    spec.detach = &detach_running;
    spec.terminal = true;
    // Only UI_HOME is used to read the command: the step's other variables
    // are secrets, and the paths end up in a clean-up command's argv.
    const OutputPlan plan = plan_outputs(step.command, {{"UI_HOME", job.ui_home}});
    spec.watch = plan.files;
    OutputPathLearner learner(plan.tool_dir);
    auto parser = progress::parser_for_command(step.command);
    std::vector<std::string> secrets;
    for (const auto& [name, value] : step.env) secrets.push_back(value);
    secrets.insert(secrets.end(), step.secrets.begin(), step.secrets.end());
    OutputTail tail(std::move(secrets));
    auto last_output = std::chrono::steady_clock::now();
    auto report_output = [&] {
      last_output = std::chrono::steady_clock::now();
      observer.on_step_output(job.job_id, i, tail.text(), tail.lines_total());
    };
    std::string tool_error;  // the first failure the tool itself reported
    bool completed = false;  // the tool said a file or model is done
    auto deliver = [&](const std::vector<progress::ProgressUpdate>& updates) {
      for (const auto& update : updates) {
        if (update.kind == progress::ProgressUpdate::Kind::kError && tool_error.empty())
          tool_error = update.message;
        if (update.kind == progress::ProgressUpdate::Kind::kStageComplete) completed = true;
        observer.on_step_progress(job.job_id, i, update);
      }
    };
    auto result = (*ssh)->run(
        spec,
        [&](std::string_view chunk, bool) {
          learner.feed(chunk);
          tail.feed(chunk);
          deliver(parser->feed(chunk));
          if (std::chrono::steady_clock::now() - last_output >= kOutputInterval) report_output();
        },
        cancel_running);
    learner.finish();
    deliver(parser->finish());
    report_output();
    const std::string what =
        "command " + std::to_string(i + 1) + " of " + std::to_string(job.steps.size());
    auto verdict = judge_step(result, what, job.timeout, parser->tool(), completed, tool_error);
    // A step judged failed is reported as failed, whatever its exit status.
    const bool stopped = result && result->cancelled;
    observer.on_step_finished(
        job.job_id, i, verdict || stopped ? result : Result<CommandResult>(fail(verdict.error())));
    if (!verdict) {
      // Ended (failed, killed, timed out): not left running nor cut off.
      if (result && !result->detached)
        leftovers = Leftovers{spec.run_dir, removable(plan, learner)};
      return verdict;
    }
  }
  return {};
}

void RemoteRunner::work(Instance& instance, Worker& worker) {
  std::unique_lock lock(mutex_);
  while (true) {
    instance.wake.wait(lock, [&] { return stopping_ || !instance.queue.empty(); });
    if (stopping_) break;
    RemoteJob job = std::move(instance.queue.front());
    instance.queue.pop_front();
    --instance.idle;
    worker.running_job = job.job_id;
    worker.cancel_running = false;
    worker.detach_running = false;
    lock.unlock();

    auto result = worker.run_job(job, observer_, options_);
    worker.tidy_up(job, result);
    if (!result) {
      spdlog::warn("job {}: on instance {}: {}", job.job_id, job.instance_id,
                   result.error().message);
    }
    lock.lock();
    worker.running_job.clear();
    ++instance.idle;  // before the observer hears of it: a job it submits next reuses this worker
    lock.unlock();
    observer_.on_job_finished(job.job_id, result);
    lock.lock();
  }
  lock.unlock();
  worker.session.reset();  // closes the connection on the worker thread, which owns it
}

RemoteRunner::RemoteRunner(RemoteObserver& observer, SessionOptions options)
    : observer_(observer), options_(std::move(options)) {}

RemoteRunner::~RemoteRunner() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [id, instance] : instances_) {
      instance->queue.clear();
      // Remote commands run on; the next start re-attaches.
      for (auto& worker : instance->workers) worker->detach_running = true;
      instance->wake.notify_all();
    }
  }
  // Workers are only added under mutex_ while not stopping: the lists are final.
  for (auto& [id, instance] : instances_) {
    for (auto& worker : instance->workers) worker->thread.join();
  }
}

RemoteRunner::Instance& RemoteRunner::instance_for(const std::string& instance_id) {
  auto& slot = instances_[instance_id];
  if (!slot) slot = std::make_unique<Instance>();
  return *slot;
}

void RemoteRunner::start_worker(Instance& instance) {
  instance.workers.push_back(std::make_unique<Worker>());
  Worker* worker = instance.workers.back().get();
  ++instance.idle;
  worker->thread = std::thread([this, &instance, worker] { work(instance, *worker); });
}

void RemoteRunner::submit(RemoteJob job) {
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  Instance& instance = instance_for(job.instance_id);
  instance.queue.push_back(std::move(job));
  if (instance.queue.size() > instance.idle) start_worker(instance);
  instance.wake.notify_one();
}

void RemoteRunner::detach(const std::string& job_id) {
  std::lock_guard lock(mutex_);
  for (auto& [id, instance] : instances_) {
    for (auto& worker : instance->workers) {
      if (worker->running_job == job_id) {
        worker->detach_running = true;
        return;
      }
    }
  }
  cancel_locked(job_id);  // queued: nothing runs yet
}

void RemoteRunner::cancel(const std::string& job_id) {
  std::lock_guard lock(mutex_);
  cancel_locked(job_id);
}

void RemoteRunner::cancel_locked(const std::string& job_id) {
  for (auto& [id, instance] : instances_) {
    for (auto& worker : instance->workers) {
      if (worker->running_job == job_id) {
        worker->cancel_running = true;
        return;
      }
    }
    for (auto it = instance->queue.begin(); it != instance->queue.end(); ++it) {
      if (it->job_id != job_id) continue;
      instance->queue.erase(it);
      observer_.on_job_finished(job_id, fail(ErrorCode::kCancelled, "cancelled"));
      return;
    }
  }
}

}  // namespace haul::remote
