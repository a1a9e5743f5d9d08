// Jobs of resource cards on an instance (seeds 000 and 001): each command of
// each card is an item; they run in order on the instance (InstanceCommands)
// with the job's UI_HOME (the request's, else the instance's).
//
// Threading: control thread only.
#pragma once

#include "cards/card_library.hpp"
#include "runners/instance_commands.hpp"
#include "scheduler/job_runner.hpp"

namespace haul::runners {

class CardRunner final : public scheduler::JobRunner {
 public:
  // `library` may be null: this daemon has no resource cards.
  CardRunner(scheduler::RunHost& host, InstanceCommands& commands,
             const cards::CardLibrary* library);

  bool accepts(const core::JobRequest& request) const override;
  bool runs(const core::Job& job) const override;
  Result<void> prepare(core::Job& job, const core::JobRequest& request) const override;
  std::string identity(const core::Job& job) const override;
  std::string host_of(const core::Job& job) const override { return "instance " + job.target; }
  void start(const std::string& job_id) override;
  void stop(const std::string& job_id, scheduler::StopReason reason) override;
  // An instance keeps a cancelled card's files only under .part names (the
  // runner removed the rest when it killed the command): nothing to do.
  void discard(const core::Job&) override {}

  // Whether `source` names a resource card ("loras/x.md").
  static bool is_card(const std::string& source);

 private:
  scheduler::RunHost& host_;
  InstanceCommands& commands_;
  const cards::CardLibrary* library_;
};

}  // namespace haul::runners
