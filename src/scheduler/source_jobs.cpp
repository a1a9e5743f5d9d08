// Jobs on hf, CivitAI and S3 sources: at the start of every attempt the
// source is resolved on the resolver pool (pre-signed URLs expire), the plan's
// files become the job's items, and start_items() hands them to the engine.
// Control thread, except the resolution itself.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "scheduler/running.hpp"
#include "scheduler/scheduler.hpp"
#include "sources/plan_transfer.hpp"
#include "transfer/file_name.hpp"
#include "transfer/url.hpp"

namespace haul::scheduler {

namespace fs = std::filesystem;
using core::Job;
using core::JobState;

namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    if (end > start) lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string option_of(const Job& job, const std::string& name) {
  auto it = job.source_options.find(name);
  return it == job.source_options.end() ? std::string() : it->second;
}

}  // namespace

Result<void> Scheduler::add_source_items(Job& job, const JobRequest& request) const {
  for (const std::string& source : request.sources) {
    auto kind = sources::check_source(source, resolve_options(job));
    if (!kind) return fail(kind.error());
    if (*kind != sources::SourceKind::kUrl && request.sources.size() > 1) {
      return fail(ErrorCode::kInvalidArgument,
                  "'" + transfer::redact_url(source) +
                      "' must be a job of its own: only plain URLs share a job");
    }
    core::Item item;
    item.source = source;  // an hf/CivitAI/S3 item stands for the source until resolved
    if (request.sha256) item.sha256 = *request.sha256;
    job.items.push_back(std::move(item));
  }
  return {};
}

void Scheduler::name_after_source(Job& job) const {
  if (job.name.empty() && !needs_resolution(job))
    job.name = transfer::file_name_from_url(job.source);
  if (job.name.empty()) job.name = transfer::redact_url(job.source);
}

bool Scheduler::needs_resolution(const Job& job) const {
  return sources::source_kind(job.source, options_.getenv) != sources::SourceKind::kUrl;
}

sources::ResolveOptions Scheduler::resolve_options(const Job& job) const {
  sources::ResolveOptions options;
  options.getenv = options_.getenv;
  options.include = split_lines(option_of(job, "include"));
  options.exclude = split_lines(option_of(job, "exclude"));
  options.file_name = option_of(job, "file");
  options.with_preview = option_of(job, "with_preview") == "1";
  options.hf_cache = option_of(job, "hf_cache") == "1";
  return options;
}

fs::path Scheduler::plan_destination(const Job& job, const sources::Plan& plan) const {
  fs::path destination = job.destination;
  if (option_of(job, "auto_folder") == "1" && !plan.suggested_folder.empty())
    destination /= plan.suggested_folder;
  return destination;
}

void Scheduler::resolve(Job& job, Running& run) {
  run.resolving = true;
  spdlog::info("job {}: resolving {}", job.id, transfer::redact_url(job.source));
  boost::asio::post(resolvers_, [this, alive = alive_, id = job.id, token = run.token,
                                 source = job.source, options = resolve_options(job)] {
    auto plan = sources::resolve_source(source, options);
    boost::asio::post(io_, [this, alive, id, token, plan = std::move(plan)]() mutable {
      if (*alive) handle_resolved(id, token, std::move(plan));
    });
  });
}

void Scheduler::adopt_plan(Job& job, Running& run, sources::Plan& plan) const {
  run.destination = plan_destination(job, plan);
  // A single file saved under the name the request gave (S3 model configs'
  // localPath).
  if (const std::string name = option_of(job, "output_name");
      !name.empty() && plan.files.size() == 1)
    plan.files.front().relative_path = name;
  // The plan's files become the items; files known from an earlier attempt
  // keep their state and bytes.
  std::vector<core::Item> items;
  run.planned.clear();
  for (sources::PlannedFile& file : plan.files) {
    auto earlier = std::find_if(job.items.begin(), job.items.end(),
                                [&](const core::Item& item) { return item.source == file.key; });
    core::Item item = earlier != job.items.end() ? *earlier : core::Item{};
    item.source = file.key;
    item.stage = file.stage;
    if (!file.sha256.empty()) item.sha256 = file.sha256;
    if (file.size) item.size = file.size;
    if (file.present && item.state != JobState::kCompleted) {  // in the local HF cache already
      item.state = JobState::kCompleted;
      item.path = (run.destination / file.relative_path).string();
      item.bytes_done = file.size.value_or(0);
      if (auto linked = sources::finish_planned_file(file, run.destination, item.path); !linked)
        run.failure = linked.error();
    }
    items.push_back(std::move(item));
    run.planned.emplace(file.key, std::move(file));
  }
  job.items = std::move(items);
}

void Scheduler::handle_resolved(const std::string& job_id, std::uint64_t run_token,
                                Result<sources::Plan> plan) {
  auto found = running_.find(job_id);
  if (found == running_.end() || found->second->token != run_token) return;  // stale
  Running& run = *found->second;
  Job& job = jobs_.at(job_id);
  run.resolving = false;
  if (run.stopping || run.shutdown) return conclude_stop(job, run);
  if (!plan) {
    spdlog::warn("job {}: cannot resolve {}: {}", job.id, transfer::redact_url(job.source),
                 plan.error().message);
    run.failure = plan.error();
    return conclude_stop(job, run);
  }
  adopt_plan(job, run, *plan);
  if (job.name == transfer::redact_url(job.source) && !plan->name.empty()) job.name = plan->name;
  if (run.remote) return start_remote_fetches(job, run, plan->sidecars);
  if (auto written = sources::write_sidecars(*plan, run.destination); !written) {
    run.failure = written.error();
    return conclude_stop(job, run);
  }
  spdlog::info("job {}: {} file(s) to {}", job.id, job.items.size(), run.destination.string());
  bus_.publish(core::EventType::kProgress, job);
  if (!run.failure) start_items(job, run);
  persist(job);
  if (run.transfers.empty()) conclude_stop(job, run);
}

}  // namespace haul::scheduler
