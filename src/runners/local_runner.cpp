#include "runners/local_runner.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "models/symlinks.hpp"
#include "net/url.hpp"
#include "runners/job_plan.hpp"
#include "runners/source_items.hpp"
#include "sources/plan_transfer.hpp"
#include "sources/source_kind.hpp"

namespace haul::runners {

namespace fs = std::filesystem;
using core::Job;
using scheduler::StopReason;

namespace {

bool is_within(const fs::path& path, const fs::path& root) {
  auto p = path.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++p) {
    if (r->empty()) continue;  // trailing separator
    if (p == path.end() || *p != *r) return false;
  }
  return true;
}

}  // namespace

// One attempt of a job on this machine.
struct LocalRunner::Attempt {
  std::uint64_t token = 0;  // tells this attempt's resolution from a stale one
  bool resolving = false;   // the source's plan is being fetched
  std::optional<StopReason> stopping;
  std::optional<Error> failure;  // the first item failure
  std::set<transfer::TransferId> transfers;
  // Whether every item finished so far was small (none finished: unknown).
  // An item of unknown size (a URL) is taken to be like them.
  std::optional<bool> small_so_far;
  fs::path destination;                                 // of planned files
  std::map<std::string, sources::PlannedFile> planned;  // by item source (the file's key)
};

LocalRunner::LocalRunner(scheduler::RunHost& host, Post post, ResolverPool& resolvers,
                         LocalRunnerOptions options)
    : host_(host), post_(std::move(post)), resolvers_(resolvers), options_(std::move(options)) {
  if (options_.roots.empty()) options_.roots.push_back(fs::current_path());
  for (fs::path& root : options_.roots) root = fs::weakly_canonical(fs::absolute(root));
}

LocalRunner::~LocalRunner() {
  *alive_ = false;
  engine_.reset();  // stops transfers (keeping their bytes) and joins its threads
}

Result<void> LocalRunner::open(const MakeEngine& make_engine) {
  auto engine = make_engine(*this);
  if (!engine) return fail(engine.error());
  engine_ = std::move(*engine);
  return {};
}

// ---- jobs -------------------------------------------------------------------

bool LocalRunner::accepts(const core::JobRequest& request) const {
  return request.target == "local";
}

bool LocalRunner::runs(const Job& job) const { return job.target == "local"; }

Result<fs::path> LocalRunner::confine(const std::string& what, const std::string& given,
                                      const fs::path& base, bool file) const {
  fs::path path(given);
  for (const fs::path& part : path) {
    if (part == "..")
      return fail(ErrorCode::kPermissionDenied, what + " '" + given + "' must not contain '..'");
  }
  if (path.empty()) path = base;
  if (path.is_relative()) path = base / path;
  // Symlinks are resolved as far as the path exists, so a link pointing out
  // of a root is caught too; a file's own name is kept (it may itself be a
  // symlink: one the job makes or repairs).
  std::error_code ec;
  const fs::path resolved = file ? fs::weakly_canonical(path.parent_path(), ec) / path.filename()
                                 : fs::weakly_canonical(path, ec);
  if (ec) return fail(ErrorCode::kPermissionDenied, what + " '" + given + "': " + ec.message());
  for (const fs::path& root : options_.roots) {
    if (is_within(resolved, root)) return resolved;
  }
  return fail(ErrorCode::kPermissionDenied, what + " '" + given +
                                                "' is outside the allowed roots (" +
                                                options_.roots.front().string() + ")");
}

Result<void> LocalRunner::prepare(Job& job, const core::JobRequest& request) const {
  auto destination = confine("destination", request.dest, options_.roots.front());
  if (!destination) return fail(destination.error());
  job.destination = destination->string();
  // No destination given: a CivitAI model goes to the folder of its type.
  if (request.dest.empty() && request.files.empty()) job.source_options.edit()["auto_folder"] = "1";
  const auto place = [&](const std::string& path) -> Result<std::string> {
    auto placed = confine("path", path, *destination, /*file=*/true);
    if (!placed) return fail(placed.error());
    return placed->string();
  };
  if (auto added = add_source_items(job, request, options_.getenv, place); !added)
    return fail(added.error());
  if (resolve_options(job, options_.getenv).hf_cache) {
    // The HF cache is where huggingface_hub looks, whatever the roots say.
    if (sources::source_kind(job.source, options_.getenv) != sources::SourceKind::kHuggingFace)
      return fail(ErrorCode::kInvalidArgument, "hf_cache applies to Hugging Face sources only");
    auto cache = sources::hf_cache_root(options_.getenv);
    if (!cache) return fail(cache.error());
    job.destination = cache->string();
  }
  name_after_source(job, options_.getenv);
  return {};
}

std::string LocalRunner::identity(const Job& job) const {
  return source_identity(job, options_.getenv);
}

std::string LocalRunner::host_of(const Job& job) const {
  if (auto url = net::parse_url(job.source)) return url->host;
  return std::string(sources::source_kind_name(sources::classify_source(job.source)));
}

void LocalRunner::discard(const Job& job) {
  for (const core::Item& item : job.items) {
    if (item.path.empty() || item.state == core::ItemState::kCompleted) continue;
    std::error_code ec;
    fs::remove(item.path + ".part", ec);
    fs::remove(item.path + ".part.state", ec);
  }
}

// ---- attempts -----------------------------------------------------------------

void LocalRunner::start(const std::string& job_id) {
  const Job* job = host_.job(job_id);
  if (job == nullptr) return;
  auto attempt = std::make_unique<Attempt>();
  attempt->token = next_token_++;
  Attempt& a = *attempts_.insert_or_assign(job_id, std::move(attempt)).first->second;
  // Files complete before this attempt (a model's file already there): their
  // links may still be missing or wrong.
  for (const core::Item& item : job->items) {
    if (item.state != core::ItemState::kCompleted) continue;
    if (auto linked = make_links(item); !linked) {
      a.failure = linked.error();
      return end_if_idle(job_id, a);
    }
  }
  if (needs_plan(*job, options_.getenv)) {
    a.resolving = true;
    spdlog::info("job {}: resolving {}", job_id, net::redact_url(job->source));
    plan_job(resolvers_, *job, options_.getenv,
             [this, job_id, token = a.token](Result<sources::Plan> plan) {
               handle_plan(job_id, token, std::move(plan));
             });
    return;
  }
  start_items(job_id, a);
  end_if_idle(job_id, a);  // nothing left to fetch, or every start failed
}

void LocalRunner::handle_plan(const std::string& job_id, std::uint64_t token,
                              Result<sources::Plan> plan) {
  auto found = attempts_.find(job_id);
  if (found == attempts_.end() || found->second->token != token) return;  // stale
  Attempt& a = *found->second;
  a.resolving = false;
  const Job* job = host_.job(job_id);
  if (job == nullptr || a.stopping) return end_if_idle(job_id, a);
  if (!plan) {
    spdlog::warn("job {}: cannot resolve {}: {}", job_id, net::redact_url(job->source),
                 plan.error().message);
    a.failure = plan.error();
    return end_if_idle(job_id, a);
  }
  a.destination = plan_destination(*job, *plan);
  auto items = items_from_plan(*job, *plan, a.destination, /*local=*/true);
  if (!items) {
    a.failure = items.error();
    return end_if_idle(job_id, a);
  }
  for (sources::PlannedFile& file : plan->files) a.planned.emplace(file.key, std::move(file));
  const bool unnamed = job->name == net::redact_url(job->source);
  host_.items_planned(job_id, std::move(*items), unnamed ? plan->name : std::string());
  if (auto written = sources::write_sidecars(*plan, a.destination); !written) {
    a.failure = written.error();
    return end_if_idle(job_id, a);
  }
  spdlog::info("job {}: {} file(s) to {}", job_id, a.planned.size(), a.destination.string());
  start_items(job_id, a);
  end_if_idle(job_id, a);
}

void LocalRunner::start_items(const std::string& job_id, Attempt& a) {
  const Job* job = host_.job(job_id);
  if (job == nullptr || !engine_) return;
  for (std::size_t i = 0; i < job->items.size(); ++i) {
    const core::Item& item = job->items[i];
    if (item.state == core::ItemState::kCompleted || item.state == core::ItemState::kRunning)
      continue;
    if (item.state == core::ItemState::kFailed && a.failure) continue;
    if (static_cast<int>(a.transfers.size()) >= concurrency_for(*job, a, item)) return;
    transfer::TransferRequest request;
    if (auto planned = a.planned.find(item.source); planned != a.planned.end()) {
      auto made = sources::transfer_request_for(planned->second, a.destination);
      if (!made) return item_failed(job_id, a, i, made.error());
      request = std::move(*made);
    } else {
      request.url = item.source;
      request.output_dir = job->destination;
    }
    if (!item.path.empty()) {
      request.output_dir.clear();
      request.output_file = item.path;  // the same file as in earlier attempts
    }
    if (!item.sha256.empty()) request.sha256 = item.sha256;
    request.connections = options_.connections;
    request.retry = options_.transfer_retry;
    auto started = engine_->start(request);
    if (!started) return item_failed(job_id, a, i, started.error());
    host_.item_started(job_id, i);
    a.transfers.insert(*started);
    transfers_[*started] = Slot{job_id, i};
  }
}

int LocalRunner::concurrency_for(const Job& job, const Attempt& a, const core::Item& next) const {
  auto small = [this, &a](const core::Item& item) {
    return item.size ? *item.size <= options_.small_item_size : a.small_so_far.value_or(false);
  };
  if (!small(next)) return options_.item_concurrency;
  for (const transfer::TransferId transfer : a.transfers) {
    auto slot = transfers_.find(transfer);
    if (slot == transfers_.end() || slot->second.item >= job.items.size() ||
        !small(job.items[slot->second.item]))
      return options_.item_concurrency;
  }
  return options_.small_item_concurrency;
}

Result<void> LocalRunner::make_links(const core::Item& item) const {
  for (const std::string& link : item.extras->links) {
    if (auto made = models::ensure_symlink(item.path, link, options_.roots); !made) return made;
  }
  return {};
}

void LocalRunner::stop(const std::string& job_id, StopReason reason) {
  auto found = attempts_.find(job_id);
  if (found == attempts_.end()) return;
  Attempt& a = *found->second;
  // A cancel after a pause only changes what the end is called: the
  // scheduler's discard() removes the partial files.
  if (a.stopping) {
    a.stopping = reason;
    return;
  }
  a.stopping = reason;
  for (transfer::TransferId t : a.transfers) engine_->stop(t, reason != StopReason::kCancel);
  // Nothing to wait for while only the plan is being fetched: its answer
  // finds the attempt gone and is dropped.
  if (a.resolving) {
    a.resolving = false;
    end_if_idle(job_id, a);
  }
}

void LocalRunner::item_failed(const std::string& job_id, Attempt& a, std::size_t item,
                              const Error& error) {
  host_.item_finished(job_id, item, fail(error));
  if (a.failure) return;
  a.failure = error;
  // One failed item fails the attempt: stop the others, keeping their bytes.
  for (transfer::TransferId t : a.transfers) engine_->stop(t, /*keep_partial=*/true);
}

void LocalRunner::end_if_idle(const std::string& job_id, Attempt& a) {
  if (!a.transfers.empty() || a.resolving) return;
  Result<void> outcome;
  if (a.stopping) {
    outcome = fail(ErrorCode::kCancelled, "stopped");
  } else if (a.failure) {
    outcome = fail(*a.failure);
  }
  attempts_.erase(job_id);  // `a` is gone from here on
  host_.run_finished(job_id, outcome);
}

// ---- engine callbacks -----------------------------------------------------------

void LocalRunner::on_progress(const transfer::TransferProgress& progress) {
  post_([this, alive = alive_, progress] {
    if (*alive) handle_progress(progress);
  });
}

void LocalRunner::on_finished(transfer::TransferId id,
                              const Result<transfer::TransferResult>& result) {
  post_([this, alive = alive_, id, result] {
    if (*alive) handle_finished(id, result);
  });
}

void LocalRunner::handle_progress(const transfer::TransferProgress& progress) {
  auto slot = transfers_.find(progress.id);
  if (slot == transfers_.end()) return;
  scheduler::ItemProgress update;
  update.bytes_done = progress.bytes_done;
  update.total = progress.total;
  update.speed = progress.speed;
  if (!progress.destination.empty()) update.path = progress.destination.string();
  update.stage = progress.stage == transfer::TransferStage::kVerifying ? "verify" : "model";
  host_.item_progress(slot->second.job_id, slot->second.item, update);
}

void LocalRunner::handle_finished(transfer::TransferId id,
                                  const Result<transfer::TransferResult>& result) {
  auto slot_it = transfers_.find(id);
  if (slot_it == transfers_.end()) return;
  const Slot slot = slot_it->second;
  transfers_.erase(slot_it);
  auto found = attempts_.find(slot.job_id);
  if (found == attempts_.end()) return;
  Attempt& a = *found->second;
  a.transfers.erase(id);
  if (result) {
    const Job* job = host_.job(slot.job_id);
    const std::string key = job != nullptr ? job->items[slot.item].source : std::string();
    Result<void> finished;
    if (auto planned = a.planned.find(key); planned != a.planned.end())
      finished = sources::finish_planned_file(planned->second, a.destination);
    if (finished && job != nullptr) {
      core::Item done = job->items[slot.item];
      done.path = result->destination.string();
      finished = make_links(done);
    }
    if (!finished) {
      item_failed(slot.job_id, a, slot.item, finished.error());
    } else {
      a.small_so_far = a.small_so_far.value_or(true) && result->size <= options_.small_item_size;
      host_.item_finished(
          slot.job_id, slot.item,
          scheduler::ItemOutcome{result->destination.string(), result->size, result->sha256});
      if (!a.stopping && !a.failure) start_items(slot.job_id, a);
    }
  } else if (result.error().code == ErrorCode::kCancelled) {
    host_.item_finished(slot.job_id, slot.item, fail(result.error()));  // stopped on request
  } else {
    item_failed(slot.job_id, a, slot.item, result.error());
  }
  end_if_idle(slot.job_id, a);
}

}  // namespace haul::runners
