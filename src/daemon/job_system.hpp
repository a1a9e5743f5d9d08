// The daemon's queue and the runners it runs jobs with, wired together:
// the scheduler, the local runner (transfer engine, source resolution), the
// runners of commands on instances (SSH), and the clock. One object so that
// serve.cpp (and whoever embeds the daemon) builds and tears them down in
// the right order.
//
// Threading: built, started and used on the control thread (`io`).
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <vector>

#include "base/error.hpp"
#include "cards/card_library.hpp"
#include "remote/ssh_session.hpp"
#include "scheduler/event_bus.hpp"
#include "scheduler/scheduler.hpp"
#include "store/db_worker.hpp"
#include "transfer/engine.hpp"

namespace haul::daemon {

struct JobSystemOptions {
  scheduler::SchedulerOptions scheduler;
  std::vector<std::filesystem::path> roots;  // models roots; the first is the default
  int connections = 8;                       // per file
  transfer::RetryPolicy transfer_retry{};
  transfer::EngineOptions engine{};
  const cards::CardLibrary* cards = nullptr;
  remote::SessionOptions ssh{};
  std::chrono::seconds command_timeout{3600};  // per remote command (seed 001)
};

class JobSystem {
 public:
  JobSystem(boost::asio::io_context& io, store::DbWorker& db, scheduler::EventBus& bus,
            JobSystemOptions options);
  ~JobSystem();

  // Starts the engine and the scheduler (loading jobs; blocks on the DB
  // worker). Errors: the engine's or the store's.
  Result<void> start();
  scheduler::Scheduler& scheduler();

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace haul::daemon
