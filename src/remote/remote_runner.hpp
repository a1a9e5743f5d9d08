// Runs remote jobs: the commands of a job, in order, on its instance over a
// reused SSH session, with UI_HOME exported, each command on a
// pseudo-terminal of its own where the instance can make one (so tools print
// live progress) and its output parsed into progress. Jobs submitted to one
// instance run at the same time (the scheduler submits at most the
// instance's max_parallel); jobs on different instances run in parallel.
//
// After a command that failed or was cancelled (not one left running by
// detach() or cut off by a lost connection), the files it was writing are
// removed on the instance: the paths named on its command line and in the
// tools' output (output_paths.hpp), except those that existed before it
// started and that it did not touch, those the tools reported complete, and
// `.part` names (not final names: kept for resuming). A completed command's
// files stay.
//
// Threading: submit(), cancel() and detach() are called from the control
// thread and never block. Each running job has a worker thread that owns its
// SshSession; an idle worker (and its session) takes the next job of its
// instance, and a new worker starts only when a job is submitted while every
// worker of the instance is busy. Observer callbacks run on worker threads,
// several at once, and must only post the work elsewhere (the scheduler
// posts to its io_context).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/error.hpp"
#include "remote/progress/progress_update.hpp"
#include "remote/ssh_session.hpp"

namespace haul::remote {

struct RemoteStep {
  std::string command;                     // a shell command line
  std::map<std::string, std::string> env;  // exported besides UI_HOME (tokens), never in argv
  // Masked in the output kept of the command, besides `env`'s values.
  std::vector<std::string> secrets{};
};

struct RemoteJob {
  std::string job_id;
  std::string instance_id;
  std::string ssh_command;  // as the user pasted it
  std::string ui_home;
  std::vector<RemoteStep> steps;
  std::size_t first_step = 0;          // steps before it finished in an earlier run
  std::chrono::seconds timeout{3600};  // per step
  // Run (with UI_HOME) after the job was cancelled, not detached: removes
  // what its commands leave behind (partial files). "" = nothing.
  std::string cancel_cleanup;
};

class RemoteObserver {
 public:
  virtual ~RemoteObserver() = default;
  // Worker thread. A step began / reported progress / ended. A failed step
  // ends the job: on_job_finished follows with its error.
  virtual void on_step_started(const std::string& job_id, std::size_t step) = 0;
  virtual void on_step_progress(const std::string& job_id, std::size_t step,
                                const progress::ProgressUpdate& update) = 0;
  virtual void on_step_finished(const std::string& job_id, std::size_t step,
                                const Result<CommandResult>& result) = 0;
  // The tail of what the step printed (OutputTail: secrets masked), at most
  // twice a second while it runs and once when it ends; `lines` counts every
  // line printed so far.
  virtual void on_step_output(const std::string& job_id, std::size_t step, const std::string& tail,
                              std::uint64_t lines) {
    (void)job_id, (void)step, (void)tail, (void)lines;
  }
  // Every step done (success), or the first failure: kUnavailable (SSH
  // connection), kCancelled, kInvalidArgument (bad SSH command) or, for a
  // failed command, command_failure_code() of its reason (kCommandFailed,
  // kNotFound or kPermissionDenied) with the command's exit status and the
  // tool's reason or the tail of its output.
  virtual void on_job_finished(const std::string& job_id, const Result<void>& result) = 0;
};

class RemoteRunner {
 public:
  RemoteRunner(RemoteObserver& observer, SessionOptions options);
  // Drops queued jobs, detaches from running ones (their commands run on at
  // the instance) and joins the workers.
  ~RemoteRunner();
  RemoteRunner(const RemoteRunner&) = delete;
  RemoteRunner& operator=(const RemoteRunner&) = delete;

  // Queues `job` on its instance's worker (created on first use).
  void submit(RemoteJob job);
  // Stops a queued or running job; its on_job_finished reports kCancelled.
  void cancel(const std::string& job_id);
  // Stops following a running job's command and leaves it running on the
  // instance (a queued job is cancelled); on_job_finished reports kCancelled.
  // Submitting the job again re-attaches to the command, or takes its status
  // if it has finished meanwhile with 0.
  void detach(const std::string& job_id);

 private:
  struct Worker;
  struct Instance;
  Instance& instance_for(const std::string& instance_id);  // mutex_ held
  void start_worker(Instance& instance);                   // mutex_ held
  void work(Instance& instance, Worker& worker);           // a worker's thread
  void cancel_locked(const std::string& job_id);           // mutex_ held

  RemoteObserver& observer_;
  const SessionOptions options_;
  std::mutex mutex_;
  // By instance id; entries are never removed (workers refer to them).
  std::map<std::string, std::unique_ptr<Instance>> instances_;  // guarded by mutex_
  bool stopping_ = false;                                       // guarded by mutex_
};

// The SSH endpoint of an SSH command line as pasted ("ssh -p 44686
// root@host -L ..."). Errors: the parser's, kInvalidArgument.
Result<SshEndpoint> endpoint_from_command(std::string_view ssh_command);

}  // namespace haul::remote
