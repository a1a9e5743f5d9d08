// How the scheduler runs a job without knowing how: a JobRunner per kind of
// job (local transfers, resource cards on an instance, native sources on an
// instance; src/runners/), and the RunHost through which a runner reports
// what happens. The scheduler decides states (core/lifecycle.hpp); a runner
// only says what happened to which item.
//
// Threading: every method of both interfaces runs on the control thread. A
// runner's own threads (the transfer engine, resolvers, SSH workers) post
// their news to the control thread before calling the host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "core/event.hpp"
#include "core/instance.hpp"
#include "core/job.hpp"
#include "core/job_request.hpp"

namespace haul::scheduler {

// Bytes moved (or a command's report) for one item.
struct ItemProgress {
  std::uint64_t bytes_done = 0;
  std::optional<std::uint64_t> total;  // a size once known stays known: nullopt keeps it
  double speed = 0;                    // bytes/s
  std::optional<std::string> path;     // the file, once the server named it
  std::optional<std::string> stage;    // images | model | cache | verify | ...
  std::optional<double> percent;       // a command's own percentage (no byte counts)
  std::optional<std::int64_t> eta_seconds;
};

// What an item ended with.
struct ItemOutcome {
  std::optional<std::string> path;
  std::optional<std::uint64_t> size;
  std::string sha256;  // the verified digest, "" when none was computed
};

// The scheduler as its runners see it.
class RunHost {
 public:
  virtual ~RunHost() = default;
  // The job as it is now; null when it is gone.
  virtual const core::Job* job(const std::string& job_id) const = 0;
  virtual const core::Instance* instance(const std::string& instance_id) const = 0;
  // The source resolved: these are the attempt's items from now on (items of
  // earlier attempts keep their state and bytes: see the runner's merge).
  // `name`: the plan's display name ("" keeps the job's).
  virtual void items_planned(const std::string& job_id, std::vector<core::Item> items,
                             const std::string& name) = 0;
  virtual void item_started(const std::string& job_id, std::size_t item) = 0;
  virtual void item_progress(const std::string& job_id, std::size_t item,
                             const ItemProgress& progress) = 0;
  // The item is done (`outcome`), failed, or was stopped on request
  // (kCancelled: it may resume later).
  virtual void item_finished(const std::string& job_id, std::size_t item,
                             const Result<ItemOutcome>& outcome) = 0;
  // What the item's command printed last (its tail) and how many lines it
  // has printed; kept with the item.
  virtual void item_output(const std::string& job_id, std::size_t item, std::string tail,
                           std::uint64_t lines) = 0;
  // Seed 001's stream (resource_install_progress) for remote commands.
  virtual void install_progress(const core::InstallProgress& progress) = 0;
  // The attempt is over: every item done, or the first failure, or
  // kCancelled after stop(). Exactly once per start().
  virtual void run_finished(const std::string& job_id, const Result<void>& outcome) = 0;
};

enum class StopReason {
  kPause,     // keep what is done for a resume
  kCancel,    // the job is over: its partial files go
  kShutdown,  // the daemon stops: keep everything, remote commands run on
};

class JobRunner {
 public:
  virtual ~JobRunner() = default;

  // Whether this runner runs jobs of `request`'s kind; of `job`'s kind
  // (a job loaded from the store).
  virtual bool accepts(const core::JobRequest& request) const = 0;
  virtual bool runs(const core::Job& job) const = 0;
  // Checks the request and fills the job's destination, items and name.
  // Errors: kInvalidArgument (bad source, destination), kPermissionDenied
  // (outside the roots), kNotFound (an unknown resource card or instance).
  virtual Result<void> prepare(core::Job& job, const core::JobRequest& request) const = 0;
  // What identifies the download, for telling a duplicate request.
  virtual std::string identity(const core::Job& job) const = 0;
  // The host a local job downloads from (per-host limits).
  virtual std::string host_of(const core::Job& job) const = 0;

  // Starts an attempt of `job_id` (its items and state as the host has
  // them); its end is reported through RunHost::run_finished.
  virtual void start(const std::string& job_id) = 0;
  // Stops a running attempt; run_finished (kCancelled) follows.
  virtual void stop(const std::string& job_id, StopReason reason) = 0;
  // Removes what a job that is not running left behind (partial files),
  // after it was cancelled.
  virtual void discard(const core::Job& job) = 0;
};

}  // namespace haul::scheduler
