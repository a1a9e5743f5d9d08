// What the scheduler keeps about a job while it runs (an attempt): its
// transfers or its remote commands, a requested stop, the first failure.
// Internal to src/scheduler (scheduler.cpp and remote_jobs.cpp).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "scheduler/scheduler.hpp"

namespace haul::scheduler {

struct Scheduler::Running {
  std::set<transfer::TransferId> transfers;  // live transfers of this run
  std::optional<core::Action> stopping;      // pause or cancel requested
  bool shutdown = false;                     // the daemon is stopping
  std::optional<Error> failure;              // first item failure of this run
  std::vector<std::function<void(Result<core::Job>)>> waiters;
  std::string host;
  std::chrono::steady_clock::time_point last_persist{};
  std::chrono::steady_clock::time_point last_publish{};
  std::map<std::size_t, std::uint64_t> speed_by_item;
  std::uint64_t token = 0;            // tells this run's resolution from a stale one
  bool resolving = false;             // the source's plan is being fetched
  std::filesystem::path destination;  // of planned files (their links and sidecars)
  std::map<std::string, sources::PlannedFile> planned;   // by item source (PlannedFile::key)
  bool remote = false;                                   // the job runs commands on an instance
  std::map<std::string, std::string> card_names;         // remote: resource card path -> its name
  std::chrono::steady_clock::time_point step_started{};  // remote: the running command's start
};

}  // namespace haul::scheduler
