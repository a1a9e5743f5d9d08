// What the scheduler keeps about a running attempt. Internal to
// src/scheduler (scheduler.cpp and scheduler_runs.cpp).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "scheduler/scheduler.hpp"

namespace haul::scheduler {

struct Scheduler::Run {
  JobRunner* runner = nullptr;
  std::optional<core::Action> stopping;  // pause or cancel asked for
  bool shutdown = false;                 // the daemon is stopping
  bool lease_lost = false;  // shared queue: another node holds the job now; write nothing
  std::vector<std::function<void(Result<core::Job>)>> waiters;  // told when the run ends
  std::string host;  // local jobs: the per-host limit's key
  std::chrono::steady_clock::time_point last_persist{};
  std::chrono::steady_clock::time_point last_publish{};
};

}  // namespace haul::scheduler
