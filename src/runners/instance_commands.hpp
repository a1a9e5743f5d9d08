// Running a job's commands on its instance (remote::RemoteRunner, one SSH
// worker per running job) for the card and fetch runners: step i is item i,
// what the tools print becomes item progress and seed 001's install stream
// (stage_start / progress / stage_complete framing each card's commands),
// and the job's end becomes RunHost::run_finished.
//
// Threading: submit() and stop() on the control thread. RemoteObserver
// callbacks arrive on SSH worker threads and are posted to the control thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "remote/remote_runner.hpp"
#include "scheduler/job_runner.hpp"

namespace haul::runners {

class InstanceCommands final : public remote::RemoteObserver {
 public:
  using Post = std::function<void(std::function<void()>)>;

  InstanceCommands(scheduler::RunHost& host, Post post, remote::SessionOptions ssh,
                   std::chrono::seconds command_timeout);
  // Detaches from running commands (they run on at the instance).
  ~InstanceCommands() override;

  // Runs `steps` (one per item of the job, in order) on the job's instance
  // with UI_HOME `ui_home`, from the first item not completed.
  // `card_names`: resource card path -> its name, for the install stream;
  // `cancel_cleanup` runs there after a cancel (partial files).
  void submit(const core::Job& job, const core::Instance& instance, const std::string& ui_home,
              std::vector<remote::RemoteStep> steps, std::map<std::string, std::string> card_names,
              std::string cancel_cleanup);
  // Kills the commands (pause, cancel) or leaves them running for the next
  // start to re-attach (shutdown); run_finished follows.
  void stop(const std::string& job_id, scheduler::StopReason reason);

  // remote::RemoteObserver (SSH worker threads): posted to the control thread.
  void on_step_started(const std::string& job_id, std::size_t step) override;
  void on_step_progress(const std::string& job_id, std::size_t step,
                        const remote::progress::ProgressUpdate& update) override;
  void on_step_finished(const std::string& job_id, std::size_t step,
                        const Result<remote::CommandResult>& result) override;
  void on_job_finished(const std::string& job_id, const Result<void>& result) override;
  void on_step_output(const std::string& job_id, std::size_t step, const std::string& tail,
                      std::uint64_t lines) override;

 private:
  struct Running {
    std::map<std::string, std::string> card_names;
    std::chrono::steady_clock::time_point step_started{};
    std::chrono::steady_clock::time_point last_publish{};
  };

  void step_started(const std::string& job_id, std::size_t step);
  void step_progress(const std::string& job_id, std::size_t step,
                     const remote::progress::ProgressUpdate& update);
  void step_finished(const std::string& job_id, std::size_t step,
                     const Result<remote::CommandResult>& result);
  void job_finished(const std::string& job_id, const Result<void>& result);
  void publish(const core::Job& job, const core::Item& item, std::string type,
               const remote::progress::ProgressUpdate* update);

  scheduler::RunHost& host_;
  Post post_;
  std::chrono::seconds command_timeout_;
  std::map<std::string, Running> running_;  // by job id; control thread
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::unique_ptr<remote::RemoteRunner> remote_;  // last: destroyed (joined) first
};

}  // namespace haul::runners
