// `output` files of syncs (seed 002's progress file): the seed's progress
// JSON of a sync's jobs, written atomically (a temporary file renamed over
// it) when one is asked for, then at most once a second while any of its
// jobs changes, and a last time when all of them have finished.
//
// Threading: control thread; the files are written on `io` (a worker).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "scheduler/event_bus.hpp"
#include "scheduler/scheduler.hpp"

namespace haul::api {

class ProgressFiles {
 public:
  ProgressFiles(const boost::asio::any_io_executor& control, boost::asio::any_io_executor io,
                scheduler::Scheduler& scheduler, scheduler::EventBus& bus);
  ~ProgressFiles();
  ProgressFiles(const ProgressFiles&) = delete;
  ProgressFiles& operator=(const ProgressFiles&) = delete;

  // Follows `job_ids` into `file` (absolute), written now and as they change;
  // a file already followed takes the new jobs too.
  void follow(const std::filesystem::path& file, const std::vector<std::string>& job_ids);

 private:
  struct Followed {
    std::set<std::string> jobs;
    bool dirty = true;
  };
  void on_event(const core::Event& event);
  void arm();
  void flush();

  boost::asio::any_io_executor io_;
  scheduler::Scheduler& scheduler_;
  scheduler::EventBus& bus_;
  boost::asio::steady_timer timer_;
  bool armed_ = false;
  std::uint64_t handle_ = 0;
  std::map<std::filesystem::path, Followed> files_;
};

}  // namespace haul::api
