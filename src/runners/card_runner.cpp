#include "runners/card_runner.hpp"

#include <algorithm>

namespace haul::runners {

using core::Job;

CardRunner::CardRunner(scheduler::RunHost& host, InstanceCommands& commands,
                       const cards::CardLibrary* library)
    : host_(host), commands_(commands), library_(library) {}

bool CardRunner::is_card(const std::string& source) { return source.ends_with(".md"); }

bool CardRunner::accepts(const core::JobRequest& request) const {
  return request.target != "local" &&
         std::any_of(request.sources.begin(), request.sources.end(), is_card);
}

bool CardRunner::runs(const Job& job) const {
  return job.target != "local" && !job.items.empty() && !job.items.front().extras->resource.empty();
}

Result<void> CardRunner::prepare(Job& job, const core::JobRequest& request) const {
  const core::Instance* instance = host_.instance(request.target);
  if (instance == nullptr) {
    return fail(ErrorCode::kInvalidArgument,
                "unknown target '" + request.target +
                    "': register it first (haul instances add, POST /api/v1/instances)");
  }
  if (!std::all_of(request.sources.begin(), request.sources.end(), is_card)) {
    return fail(ErrorCode::kInvalidArgument,
                "resource cards and other sources cannot share a job: queue them separately");
  }
  if (library_ == nullptr)
    return fail(ErrorCode::kInvalidArgument, "this daemon has no resource library");
  std::string names;
  for (const std::string& source : request.sources) {
    auto card = library_->load(source);
    if (!card) return fail(card.error());
    for (const std::string& command : card->commands) {
      core::Item item;
      item.source = command;
      item.extras.edit().resource = card->path;
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

std::string CardRunner::identity(const Job& job) const { return core::item_sources(job); }

void CardRunner::start(const std::string& job_id) {
  const Job* job = host_.job(job_id);
  if (job == nullptr) return;
  const core::Instance* instance = host_.instance(job->target);
  if (instance == nullptr) {  // removed while the job waited
    return host_.run_finished(job_id,
                              fail(ErrorCode::kNotFound, "instance " + job->target + " is gone"));
  }
  std::vector<remote::RemoteStep> steps;
  std::map<std::string, std::string> card_names;
  for (const core::Item& item : job->items) {
    steps.push_back(remote::RemoteStep{item.source, {}});
    if (!item.extras->resource.empty() && card_names.count(item.extras->resource) == 0) {
      auto card = library_ != nullptr ? library_->load(item.extras->resource)
                                      : Result<cards::ResourceCard>(fail(ErrorCode::kNotFound, ""));
      card_names[item.extras->resource] = card ? card->name : item.extras->resource;
    }
  }
  // A card job carries its UI_HOME as its destination.
  commands_.submit(*job, *instance, job->destination, std::move(steps), std::move(card_names), {});
}

void CardRunner::stop(const std::string& job_id, scheduler::StopReason reason) {
  commands_.stop(job_id, reason);
}

}  // namespace haul::runners
