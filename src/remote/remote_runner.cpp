#include "remote/remote_runner.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <cctype>
#include <cstdio>

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
    return fail(ErrorCode::kInternal, what + " (civitdl) failed: " + tool_error);
  if (result->exit_status != 0) {
    const std::string reason = tool_error.empty() ? last_line(result->stderr_tail) : tool_error;
    return fail(ErrorCode::kInternal, what + " exited with status " +
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

// One instance: its queue of jobs and the thread that runs them, which owns
// the SSH session. Fields marked "guarded" are shared with the control thread.
struct RemoteRunner::Worker {
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<RemoteJob> queue;  // guarded
  std::string running_job;      // guarded
  std::atomic<bool> cancel_running{false};
  std::atomic<bool> detach_running{false};  // leave the running command be (daemon stopping)
  bool stopping = false;  // guarded
  std::thread thread;

  std::unique_ptr<SshSession> session;  // worker thread only

  void run(RemoteObserver& observer, const SessionOptions& options);
  Result<void> run_job(const RemoteJob& job, RemoteObserver& observer,
                       const SessionOptions& options);
  Result<SshSession*> connected(const RemoteJob& job, const SessionOptions& options);
  void tidy_up(const RemoteJob& job, const Result<void>& result);
  void run_quietly(const RemoteJob& job, const std::string& command);
};

// After a job: a cancelled one's leftovers go (cancel_cleanup), and a job that
// ended (not one left running, nor one cut off by a lost connection, whose
// retry re-attaches) needs its run files no more.
void RemoteRunner::Worker::tidy_up(const RemoteJob& job, const Result<void>& result) {
  const bool detached = detach_running;
  const bool cut_off = !result && result.error().code == ErrorCode::kUnavailable;
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
  auto done = session->run(spec, [](std::string_view, bool) {}, never);
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
    auto parser = progress::parser_for_command(step.command);
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
        spec, [&](std::string_view chunk, bool) { deliver(parser->feed(chunk)); }, cancel_running);
    deliver(parser->finish());
    const std::string what = "command " + std::to_string(i + 1) + " of " +
                             std::to_string(job.steps.size());
    auto verdict = judge_step(result, what, job.timeout, parser->tool(), completed, tool_error);
    // A step judged failed is reported as failed, whatever its exit status.
    const bool stopped = result && result->cancelled;
    observer.on_step_finished(job.job_id, i,
                              verdict || stopped ? result : Result<CommandResult>(
                                                                fail(verdict.error())));
    if (!verdict) return verdict;
  }
  return {};
}

void RemoteRunner::Worker::run(RemoteObserver& observer, const SessionOptions& options) {
  while (true) {
    RemoteJob job;
    {
      std::unique_lock lock(mutex);
      wake.wait(lock, [this] { return stopping || !queue.empty(); });
      if (stopping) break;
      job = std::move(queue.front());
      queue.pop_front();
      running_job = job.job_id;
      cancel_running = false;
      detach_running = false;
    }
    auto result = run_job(job, observer, options);
    tidy_up(job, result);
    if (!result) {
      spdlog::warn("job {}: on instance {}: {}", job.job_id, job.instance_id,
                   result.error().message);
    }
    {
      std::lock_guard lock(mutex);
      running_job.clear();
    }
    observer.on_job_finished(job.job_id, result);
  }
  session.reset();  // closes the connection on the worker thread, which owns it
}

RemoteRunner::RemoteRunner(RemoteObserver& observer, SessionOptions options)
    : observer_(observer), options_(std::move(options)) {}

RemoteRunner::~RemoteRunner() {
  std::lock_guard lock(mutex_);
  for (auto& [id, worker] : workers_) {
    {
      std::lock_guard worker_lock(worker->mutex);
      worker->stopping = true;
      worker->queue.clear();
      worker->detach_running = true;  // remote commands run on; the next start re-attaches
    }
    worker->wake.notify_all();
  }
  for (auto& [id, worker] : workers_) worker->thread.join();
}

RemoteRunner::Worker& RemoteRunner::worker_for(const std::string& instance_id) {
  auto& slot = workers_[instance_id];
  if (!slot) {
    slot = std::make_unique<Worker>();
    Worker* worker = slot.get();
    worker->thread = std::thread([this, worker] { worker->run(observer_, options_); });
  }
  return *slot;
}

void RemoteRunner::submit(RemoteJob job) {
  std::lock_guard lock(mutex_);
  Worker& worker = worker_for(job.instance_id);
  {
    std::lock_guard worker_lock(worker.mutex);
    worker.queue.push_back(std::move(job));
  }
  worker.wake.notify_one();
}

void RemoteRunner::detach(const std::string& job_id) {
  std::lock_guard lock(mutex_);
  for (auto& [id, worker] : workers_) {
    std::unique_lock worker_lock(worker->mutex);
    if (worker->running_job == job_id) {
      worker->detach_running = true;
      return;
    }
  }
  cancel_locked(job_id);  // queued: nothing runs yet
}

void RemoteRunner::cancel(const std::string& job_id) {
  std::lock_guard lock(mutex_);
  cancel_locked(job_id);
}

void RemoteRunner::cancel_locked(const std::string& job_id) {
  for (auto& [id, worker] : workers_) {
    std::unique_lock worker_lock(worker->mutex);
    if (worker->running_job == job_id) {
      worker->cancel_running = true;
      return;
    }
    for (auto it = worker->queue.begin(); it != worker->queue.end(); ++it) {
      if (it->job_id != job_id) continue;
      worker->queue.erase(it);
      worker_lock.unlock();
      observer_.on_job_finished(job_id, fail(ErrorCode::kCancelled, "cancelled"));
      return;
    }
  }
}

}  // namespace haul::remote
