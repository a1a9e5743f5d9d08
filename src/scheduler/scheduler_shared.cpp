// A queue shared with other nodes (docs/design/cluster.md): a job starts
// only once this node claimed it in the store, every write of it carries
// the claim's fence, the lease goes back when the attempt ends, and what
// other nodes change comes in as reloads. A sole node's queue never gets
// here (shared() is false).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_set>

#include "scheduler/run_state.hpp"
#include "scheduler/scheduler.hpp"
#include "store/queue_claims.hpp"

namespace haul::scheduler {

using core::Job;
using core::JobEvent;
using core::JobState;

namespace {

// Instance jobs asked for per claim beyond the local slots: the store gives
// at most each instance's free max_parallel across all nodes.
constexpr std::size_t kInstanceJobsPerClaim = 16;

Result<store::QueueClaims*> claims_of(store::JobStore& store) {
  auto* claims = dynamic_cast<store::QueueClaims*>(&store);
  if (claims == nullptr)
    return fail(ErrorCode::kInternal, "this store cannot share a queue between nodes");
  return claims;
}

}  // namespace

struct Scheduler::Claimed {
  store::Claim claim;
  std::optional<Job> job;  // as stored once claimed; nullopt: gone, or unreadable
};

void Scheduler::add_fence(store::WriteBatch& batch, const std::string& job_id) const {
  if (!shared()) return;
  // Held: the write stands only while this node still holds the lease.
  // Not held: only while nobody does (a queued job paused here must not
  // overwrite a run another node just claimed).
  auto lease = leases_.find(job_id);
  if (lease != leases_.end()) {
    batch.fences.push_back({job_id, options_.node, lease->second});
  } else {
    batch.fences.push_back({job_id, std::string(), 0});
  }
}

Result<void> Scheduler::abandon_old_leases() {
  auto abandoned = db_.call<std::size_t>([node = options_.node](store::JobStore& store) {
    auto claims = claims_of(store);
    if (!claims) return Result<std::size_t>(fail(claims.error()));
    return (*claims)->abandon(node);
  });
  if (!abandoned) return fail(abandoned.error());
  if (*abandoned > 0)
    spdlog::info("{} job(s) this node ran before it stopped are taken over now", *abandoned);
  return {};
}

void Scheduler::claim_jobs() {
  if (claiming_ || !claim_wanted_) return;  // a claim under way claims again when answered
  const auto local_free =
      static_cast<std::size_t>(std::max(0, options_.max_active - local_running_));
  store::ClaimRequest request;
  request.node = options_.node;
  request.limit = local_free + kInstanceJobsPerClaim;
  request.local_limit = local_free;
  request.lease = options_.lease;
  request.max_per_host = static_cast<std::size_t>(std::max(0, options_.max_per_host));
  claim_wanted_ = false;
  claiming_ = true;
  db_.read<std::vector<Claimed>>(
      [request](store::JobStore& store) -> Result<std::vector<Claimed>> {
        auto claims = claims_of(store);
        if (!claims) return fail(claims.error());
        auto got = (*claims)->claim(request);
        if (!got) return fail(got.error());
        std::vector<Claimed> claimed;
        claimed.reserve(got->size());
        for (store::Claim& claim : *got) {
          auto job = store.load_job(claim.job_id);
          claimed.push_back({std::move(claim), job ? std::move(*job) : std::nullopt});
        }
        return claimed;
      },
      [this](Result<std::vector<Claimed>> claimed) {
        claiming_ = false;
        if (!claimed) {
          // The next tick (claim_interval) asks again.
          spdlog::warn("cannot claim jobs: {}", claimed.error().message);
          return;
        }
        start_claimed(std::move(*claimed));
        if (claim_wanted_) schedule();
      });
}

void Scheduler::start_claimed(std::vector<Claimed> claimed) {
  // Claiming again is worth it when something changed meanwhile or a job
  // started here (there may be more); not for jobs this node just found it
  // cannot start, which would come straight back.
  const bool wanted = claim_wanted_;
  bool started = false;
  for (Claimed& entry : claimed) {
    if (try_start(entry)) {
      started = true;
    } else {
      release(entry.claim.job_id, entry.claim.token);
    }
  }
  claim_wanted_ = wanted || started;
}

bool Scheduler::try_start(Claimed& entry) {
  const std::string& id = entry.claim.job_id;
  if (shutting_down_ || !entry.job || run_of(id) != nullptr) return false;
  apply_stored(id, std::move(entry.job));
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return false;
  Job& job = it->second;
  leases_[id] = entry.claim.token;
  if (entry.claim.takeover) {
    // Its node stopped renewing the lease (died, or lost the database):
    // the attempt starts again here, and an instance's command still
    // running is attached to rather than run again (remote/durable_run).
    ++takeovers_;
    spdlog::warn("job {}: its node stopped renewing its lease; taking the run over", id);
    requeue_interrupted(job);
    refresh_runnable(job);
  }
  if (job.state != JobState::kQueued && job.state != JobState::kRetrying) return false;
  if (const std::optional<core::Action> requested = job.pending_action) {
    // A pause or cancel asked for while the run's node died: answered here
    // instead of starting.
    job.pending_action.reset();
    apply_idle_action(job, *requested);
    return false;
  }
  if (runner_for(job) == nullptr || !has_room(job)) return false;
  start_job(job);
  return true;
}

void Scheduler::release(const std::string& job_id, std::int64_t token) {
  if (auto lease = leases_.find(job_id); lease != leases_.end() && lease->second == token)
    leases_.erase(lease);
  // After every write queued before it: the attempt's last state is stored
  // before another node may claim the job. A pause or cancel asked for
  // elsewhere is answered by now.
  db_.read<bool>(
      [node = options_.node, job_id, token](store::JobStore& store) -> Result<bool> {
        auto claims = claims_of(store);
        if (!claims) return fail(claims.error());
        auto released = (*claims)->release(node, job_id, token);
        if (!released) return released;
        store::WriteBatch answered;
        answered.action_requests.push_back({job_id, std::nullopt});
        if (auto cleared = store.apply(answered); !cleared) return fail(cleared.error());
        return released;
      },
      [job_id](const Result<bool>& released) {
        if (!released)
          spdlog::warn("job {}: cannot give its lease back: {}", job_id, released.error().message);
      });
}

void Scheduler::lease_lost(const std::string& job_id) {
  Run* run = run_of(job_id);
  if (run == nullptr) {
    // A change of a job this node does not run was refused (another node
    // claimed it meanwhile): the store's version replaces ours.
    return reload_jobs({job_id});
  }
  if (run->lease_lost) return;
  run->lease_lost = true;
  leases_.erase(job_id);
  spdlog::warn("job {}: lease lost: another node holds the job now; stopping the run here", job_id);
  // As at shutdown: partial files stay, an instance's command runs on for
  // the new holder to attach to.
  run->runner->stop(job_id, StopReason::kShutdown);
}

// ---- what other nodes changed ---------------------------------------------------

void Scheduler::reload_jobs(std::vector<std::string> ids) {
  if (ids.empty()) return;
  using Loaded = std::vector<std::pair<std::string, std::optional<Job>>>;
  db_.read<Loaded>(
      [ids = std::move(ids)](store::JobStore& store) -> Result<Loaded> {
        Loaded loaded;
        loaded.reserve(ids.size());
        for (const std::string& id : ids) {
          auto job = store.load_job(id);
          if (!job) return fail(job.error());
          loaded.emplace_back(id, std::move(*job));
        }
        return loaded;
      },
      [this](Result<Loaded> loaded) {
        if (!loaded) {
          spdlog::warn("cannot reload jobs another node changed: {}", loaded.error().message);
          return;
        }
        for (auto& [id, job] : *loaded) apply_stored(id, std::move(job));
        schedule();
      });
}

void Scheduler::reload_all() {
  db_.read<std::vector<Job>>([](store::JobStore& store) { return store.load_jobs({}); },
                             [this](Result<std::vector<Job>> loaded) {
                               if (!loaded) {
                                 spdlog::warn("cannot reload the queue: {}",
                                              loaded.error().message);
                                 return;
                               }
                               std::unordered_set<std::string> present;
                               for (Job& job : *loaded) {
                                 std::string id = job.id;
                                 present.insert(id);
                                 apply_stored(id, std::move(job));
                               }
                               std::vector<std::string> gone;
                               for (const auto& [id, job] : jobs_) {
                                 if (!present.contains(job.id) && run_of(job.id) == nullptr)
                                   gone.push_back(job.id);
                               }
                               for (const std::string& id : gone) apply_stored(id, std::nullopt);
                               claim_wanted_ = true;
                               schedule();
                             });
}

void Scheduler::reload_instances() {
  db_.read<std::vector<core::Instance>>(
      [](store::JobStore& store) { return store.load_instances(); },
      [this](Result<std::vector<core::Instance>> loaded) {
        if (!loaded) {
          spdlog::warn("cannot reload instances: {}", loaded.error().message);
          return;
        }
        instances_.load(std::move(*loaded));
        claim_wanted_ = true;
        schedule();
      });
}

void Scheduler::apply_stored(const std::string& id, std::optional<Job> stored) {
  if (adding_.find(id) != adding_.end()) return;  // ours, not committed yet
  auto it = jobs_.find(id);
  if (Run* run = run_of(id)) {
    // This node runs it and knows better; only a pause or cancel asked for
    // on another node comes in.
    if (stored && stored->pending_action && it != jobs_.end())
      request_stop(it->second, *run, *stored->pending_action);
    return;
  }
  if (!stored) {
    if (it != jobs_.end()) forget(it, true);
    return;
  }
  next_seq_ = std::max(next_seq_, stored->seq + 1);
  if (it == jobs_.end()) {
    Job& job = jobs_.insert(job_node(std::move(*stored))).position->second;
    if (!core::is_finished(job.state)) index_unfinished(job);
    refresh_runnable(job);
    publish(core::EventType::kAdded, job, true);
    return;
  }
  if (*stored == it->second) return;  // nothing new (a resync reloads every job)
  const JobState before = it->second.state;
  Job& old = it->second;
  if (before == JobState::kRunning && stored->state == JobState::kRunning)
    relay_speed(old, *stored);
  else
    relayed_at_.erase(id);
  unindex_unfinished(old);
  unlist(old.target == "local" ? runnable_local_ : runnable_remote_, old);
  retrying_.erase(old.id);
  // The node stays where it is (the indexes point at its job); its key
  // views the job's id, which the new value replaces.
  auto node = jobs_.extract(it);
  node.mapped() = std::move(*stored);
  node.key() = node.mapped().id;
  Job& job = jobs_.insert(std::move(node)).position->second;
  if (!core::is_finished(job.state)) index_unfinished(job);
  refresh_runnable(job);
  if (before == JobState::kRunning && job.state != JobState::kRunning) claim_wanted_ = true;
  if (job.state != before) {
    publish(core::event_type_for(job.state), job, true);
  } else {
    publish(job.state == JobState::kRunning ? core::EventType::kProgress : core::EventType::kState,
            job, true);
  }
}

void Scheduler::relay_speed(const Job& before, Job& now) {
  // Speed is live only (never stored): worked out here from the bytes the
  // running node stored since the last reload (twice a second).
  const auto at = clock_.steady_now();
  auto [last, first] = relayed_at_.try_emplace(now.id, at);
  const double seconds = std::chrono::duration<double>(at - last->second).count();
  last->second = at;
  if (first || seconds <= 0 || before.items.size() != now.items.size()) return;
  now.speed = 0;
  for (std::size_t i = 0; i < now.items.size(); ++i) {
    const std::uint64_t done = now.items[i].bytes_done;
    const std::uint64_t was = before.items[i].bytes_done;
    now.items[i].speed = done > was ? static_cast<double>(done - was) / seconds : 0;
    now.speed += now.items[i].speed;
  }
  now.eta_seconds = now.eta_at_speed();
}

void Scheduler::forget(JobMapIterator it, bool relayed) {
  Job& job = it->second;
  unlist(job.target == "local" ? runnable_local_ : runnable_remote_, job);
  retrying_.erase(job.id);
  unindex_unfinished(job);
  hash_mismatches_.erase(job.id);
  relayed_at_.erase(job.id);
  publish(core::EventType::kRemoved, job, relayed);
  jobs_.erase(it);
}

}  // namespace haul::scheduler
