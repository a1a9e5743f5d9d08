#include "daemon/job_system.hpp"

#include <boost/asio/post.hpp>

#include "remote/remote_runner.hpp"
#include "runners/card_runner.hpp"
#include "runners/fetch_runner.hpp"
#include "runners/instance_commands.hpp"
#include "runners/local_runner.hpp"
#include "runners/resolver_pool.hpp"
#include "scheduler/clock.hpp"

namespace haul::daemon {

namespace {

runners::LocalRunnerOptions local_options(const JobSystemOptions& options) {
  runners::LocalRunnerOptions local;
  local.roots = options.roots;
  local.connections = options.connections;
  local.transfer_retry = options.transfer_retry;
  // A job's attempts are the retries a user sees: a request that gets no
  // byte ends the attempt instead of being retried in place.
  local.transfer_retry.retry_only_after_data = true;
  return local;
}

}  // namespace

// Declared in the order they must be built; destroyed in reverse (runners
// before the scheduler they report to, the resolver pool after its users).
struct JobSystem::Parts {
  Parts(boost::asio::io_context& io, store::DbWorker& db, scheduler::EventBus& bus,
        JobSystemOptions opts)
      : options(std::move(opts)),
        post([&io](std::function<void()> task) { boost::asio::post(io, std::move(task)); }),
        clock(io),
        scheduler(db, bus, clock, options.scheduler),
        resolvers(post),
        local(scheduler, post, resolvers, local_options(options)),
        commands(scheduler, post, options.ssh, options.command_timeout),
        cards(scheduler, commands, options.cards),
        fetches(scheduler, commands, resolvers) {}

  JobSystemOptions options;
  std::function<void(std::function<void()>)> post;
  scheduler::AsioClock clock;
  scheduler::Scheduler scheduler;
  runners::ResolverPool resolvers;
  runners::LocalRunner local;
  runners::InstanceCommands commands;
  runners::CardRunner cards;
  runners::FetchRunner fetches;
};

JobSystem::JobSystem(boost::asio::io_context& io, store::DbWorker& db, scheduler::EventBus& bus,
                     JobSystemOptions options) {
  if (!options.roots.empty()) options.scheduler.models_root = options.roots.front();
  options.scheduler.check_instance = [](const core::Instance& instance) -> Result<void> {
    if (auto endpoint = remote::endpoint_from_command(instance.ssh_command); !endpoint)
      return fail(endpoint.error());
    return {};
  };
  parts_ = std::make_unique<Parts>(io, db, bus, std::move(options));
  parts_->scheduler.add_runner(parts_->local);
  parts_->scheduler.add_runner(parts_->cards);
  parts_->scheduler.add_runner(parts_->fetches);
}

JobSystem::~JobSystem() = default;

Result<void> JobSystem::start() {
  const transfer::EngineOptions engine = parts_->options.engine;
  auto opened = parts_->local.open([&engine](transfer::TransferObserver& observer) {
    return transfer::Engine::create(engine, observer);
  });
  if (!opened) return fail(opened.error());
  return parts_->scheduler.start();
}

scheduler::Scheduler& JobSystem::scheduler() { return parts_->scheduler; }

}  // namespace haul::daemon
