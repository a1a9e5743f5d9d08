// Jobs that download to this machine: the source is resolved into a Plan
// (hf, CivitAI, S3: at every attempt, signed URLs expire), each planned file
// or URL is a transfer on the engine, up to `item_concurrency` at once; the
// first failed item stops the others (keeping their bytes) and ends the
// attempt. Destinations are confined to the models roots.
//
// Threading: JobRunner methods on the control thread. Engine callbacks
// arrive on the engine's thread and are posted to the control thread.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runners/resolver_pool.hpp"
#include "scheduler/job_runner.hpp"
#include "sources/plan.hpp"
#include "sources/resolve.hpp"
#include "transfer/engine.hpp"

namespace haul::runners {

struct LocalRunnerOptions {
  // Destinations must lie inside one of these; the first is the default and
  // the base of relative destinations.
  std::vector<std::filesystem::path> roots;
  int item_concurrency = 4;  // items of one job transferring at once
  // ... when they are all small (up to small_item_size; an item of unknown
  // size counts as small once every finished item was): such files cost
  // round-trips and fsyncs rather than bandwidth, so many overlap.
  int small_item_concurrency = 32;
  std::uint64_t small_item_size = 16u << 20;
  int connections = 8;  // per item
  transfer::RetryPolicy transfer_retry{};
  sources::GetEnv getenv = sources::process_env();
};

class LocalRunner final : public scheduler::JobRunner, public transfer::TransferObserver {
 public:
  using Post = std::function<void(std::function<void()>)>;
  // `engine` is made with this runner as its observer (tests pass a fake).
  using MakeEngine =
      std::function<Result<std::unique_ptr<transfer::Engine>>(transfer::TransferObserver&)>;

  LocalRunner(scheduler::RunHost& host, Post post, ResolverPool& resolvers,
              LocalRunnerOptions options);
  ~LocalRunner() override;

  // Creates the engine. Errors: the engine's (libcurl cannot start).
  Result<void> open(const MakeEngine& make_engine);

  bool accepts(const core::JobRequest& request) const override;
  bool runs(const core::Job& job) const override;
  Result<void> prepare(core::Job& job, const core::JobRequest& request) const override;
  std::string identity(const core::Job& job) const override;
  std::string host_of(const core::Job& job) const override;
  void start(const std::string& job_id) override;
  void stop(const std::string& job_id, scheduler::StopReason reason) override;
  void discard(const core::Job& job) override;

  std::size_t active_transfers() const { return transfers_.size(); }
  const std::vector<std::filesystem::path>& roots() const { return options_.roots; }

  // transfer::TransferObserver (engine thread): posted to the control thread.
  void on_progress(const transfer::TransferProgress& progress) override;
  void on_finished(transfer::TransferId id,
                   const Result<transfer::TransferResult>& result) override;

 private:
  struct Attempt;
  struct Slot {
    std::string job_id;
    std::size_t item = 0;
  };

  // `given` (relative to `base`, or absolute) made absolute and checked to
  // lie inside a root; errors name it as `what`. A `file` keeps its own name
  // unresolved (only its folder's symlinks are followed).
  Result<std::filesystem::path> confine(const std::string& what, const std::string& given,
                                        const std::filesystem::path& base, bool file = false) const;
  // Makes or repairs the symlinks a complete item must have.
  Result<void> make_links(const core::Item& item) const;
  void handle_plan(const std::string& job_id, std::uint64_t token, Result<sources::Plan> plan);
  void start_items(const std::string& job_id, Attempt& attempt);
  // How many items of the attempt may transfer at once with `next` among them.
  int concurrency_for(const core::Job& job, const Attempt& attempt, const core::Item& next) const;
  void handle_progress(const transfer::TransferProgress& progress);
  void handle_finished(transfer::TransferId id, const Result<transfer::TransferResult>& result);
  void item_failed(const std::string& job_id, Attempt& attempt, std::size_t item,
                   const Error& error);
  // Ends the attempt once nothing of it runs any more.
  void end_if_idle(const std::string& job_id, Attempt& attempt);

  scheduler::RunHost& host_;
  Post post_;
  ResolverPool& resolvers_;
  LocalRunnerOptions options_;
  std::unique_ptr<transfer::Engine> engine_;
  std::map<std::string, std::unique_ptr<Attempt>> attempts_;  // by job id
  std::map<transfer::TransferId, Slot> transfers_;
  std::uint64_t next_token_ = 1;
  // Cleared first by the destructor: engine callbacks posted later are dropped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace haul::runners
