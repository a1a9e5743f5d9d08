// Runs remote jobs: the commands of a job, in order, on its instance over
// one reused SSH session, with UI_HOME exported, each command's output parsed
// into progress. Jobs on one instance run one at a time (a worker thread per
// instance); jobs on different instances run in parallel.
//
// Threading: submit() and cancel() are called from the control thread and
// never block. Each instance has a worker thread that owns its SshSession;
// observer callbacks run on that worker thread and must only post the work
// elsewhere (the scheduler posts to its io_context).
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
};

struct RemoteJob {
  std::string job_id;
  std::string instance_id;
  std::string ssh_command;  // as the user pasted it
  std::string ui_home;
  std::vector<RemoteStep> steps;
  std::size_t first_step = 0;  // steps before it finished in an earlier run
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
  // Every step done (success), or the first failure: kUnavailable (SSH
  // connection), kCancelled, kInvalidArgument (bad SSH command) or kInternal
  // with the command's exit status and the tail of its output.
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
  Worker& worker_for(const std::string& instance_id);
  void cancel_locked(const std::string& job_id);  // mutex_ held

  RemoteObserver& observer_;
  const SessionOptions options_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Worker>> workers_;  // by instance id; guarded by mutex_
};

// The SSH endpoint of an SSH command line as pasted ("ssh -p 44686
// root@host -L ..."). Errors: the parser's, kInvalidArgument.
Result<SshEndpoint> endpoint_from_command(std::string_view ssh_command);

}  // namespace haul::remote
