#include "runners/fetch_runner.hpp"

#include <spdlog/spdlog.h>

#include "base/text.hpp"
#include "net/file_name.hpp"
#include "net/url.hpp"
#include "remote/fetch_script.hpp"
#include "runners/card_runner.hpp"
#include "runners/job_plan.hpp"
#include "runners/source_items.hpp"

namespace haul::runners {

using core::Job;

namespace {

// The destination on the instance: absolute, or relative to its UI_HOME.
Result<std::string> remote_destination(const std::string& dest) {
  if (dest.empty()) return std::string("models");
  if (has_control_char(dest) || (dest.front() != '/' && !is_safe_relative_path(dest))) {
    return fail(ErrorCode::kInvalidArgument,
                "destination '" + dest +
                    "' on an instance must be an absolute path or a plain path relative to "
                    "its UI_HOME (\"models/loras\")");
  }
  return dest;
}

remote::RemoteFetch fetch_of(const sources::PlannedFile& file, const std::string& directory) {
  remote::RemoteFetch fetch;
  fetch.url = file.fetch.url;
  fetch.headers = file.fetch.headers;
  if (!file.fetch.if_match.empty()) fetch.headers.push_back("If-Match: " + file.fetch.if_match);
  if (file.fetch.aws) {
    fetch.aws_sigv4 = file.fetch.aws->provider;
    fetch.aws_user = file.fetch.aws->access_key + ":" + file.fetch.aws->secret_key;
  }
  fetch.directory = directory;
  fetch.relative_path = file.relative_path;
  if (fetch.relative_path.empty()) fetch.relative_path = net::file_name_from_url(file.fetch.url);
  if (fetch.relative_path.empty()) fetch.relative_path = "download";
  fetch.size = file.size;
  fetch.sha256 = file.sha256;
  return fetch;
}

}  // namespace

FetchRunner::FetchRunner(scheduler::RunHost& host, InstanceCommands& commands,
                         ResolverPool& resolvers, sources::GetEnv getenv)
    : host_(host), commands_(commands), resolvers_(resolvers), getenv_(std::move(getenv)) {}

bool FetchRunner::accepts(const core::JobRequest& request) const {
  return request.target != "local" &&
         std::none_of(request.sources.begin(), request.sources.end(), CardRunner::is_card);
}

bool FetchRunner::runs(const Job& job) const {
  return job.target != "local" && (job.items.empty() || job.items.front().extras->resource.empty());
}

Result<void> FetchRunner::prepare(Job& job, const core::JobRequest& request) const {
  if (host_.instance(request.target) == nullptr) {
    return fail(ErrorCode::kInvalidArgument,
                "unknown target '" + request.target +
                    "': register it first (haul instances add, POST /api/v1/instances)");
  }
  if (resolve_options(job, getenv_).hf_cache)
    return fail(ErrorCode::kInvalidArgument, "hf_cache applies to local jobs only");
  auto destination = remote_destination(request.dest);
  if (!destination) return fail(destination.error());
  job.destination = *destination;
  // No destination given: a CivitAI model goes to the folder of its type.
  if (request.dest.empty() && request.files.empty()) job.source_options.edit()["auto_folder"] = "1";
  // A file's path on the instance: absolute, or under the destination.
  const auto place = [&](const std::string& path) -> Result<std::string> {
    if (!path.empty() && path.front() == '/') {
      if (auto checked = remote_destination(path); !checked) return fail(checked.error());
      if (path.find("/../") != std::string::npos || path.ends_with("/.."))
        return fail(ErrorCode::kInvalidArgument, "path '" + path + "' must not contain '..'");
      return path;
    }
    if (has_control_char(path) || !is_safe_relative_path(path))
      return fail(ErrorCode::kInvalidArgument, "path '" + path + "' must be a plain relative path");
    return *destination + "/" + path;
  };
  if (auto added = add_source_items(job, request, getenv_, place); !added)
    return fail(added.error());
  name_after_source(job, getenv_);
  return {};
}

std::string FetchRunner::identity(const Job& job) const { return source_identity(job, getenv_); }

void FetchRunner::start(const std::string& job_id) {
  const Job* job = host_.job(job_id);
  if (job == nullptr) return;
  if (!is_per_source(*job) && !needs_plan(*job, getenv_)) {
    // Plain URLs: nothing to learn before the fetch.
    sources::Plan plan;
    for (const core::Item& item : job->items) {
      sources::PlannedFile file;
      file.key = item.source;
      file.fetch.url = item.source;
      file.sha256 = item.sha256;
      file.size = item.size;
      plan.files.push_back(std::move(file));
    }
    return submit(job_id, std::move(plan));
  }
  const std::uint64_t token = next_token_++;
  resolving_[job_id] = token;
  plan_job(resolvers_, *job, getenv_, [this, job_id, token](Result<sources::Plan> plan) {
    auto it = resolving_.find(job_id);
    if (it == resolving_.end() || it->second != token) return;  // stopped
    resolving_.erase(it);
    if (!plan) return host_.run_finished(job_id, fail(plan.error()));
    submit(job_id, std::move(*plan));
  });
}

void FetchRunner::submit(const std::string& job_id, sources::Plan plan) {
  const Job* job = host_.job(job_id);
  if (job == nullptr) return;
  const core::Instance* instance = host_.instance(job->target);
  if (instance == nullptr)
    return host_.run_finished(job_id,
                              fail(ErrorCode::kNotFound, "instance " + job->target + " is gone"));
  const std::string directory = plan_destination(*job, plan).generic_string();
  auto items = items_from_plan(*job, plan, directory, /*local=*/false);
  if (!items) return host_.run_finished(job_id, fail(items.error()));
  std::vector<remote::RemoteStep> steps;
  std::vector<remote::RemoteFetch> fetches;
  for (std::size_t i = 0; i < plan.files.size(); ++i) {
    remote::RemoteFetch fetch = fetch_of(plan.files[i], directory);
    if (i == 0) {
      for (const sources::Sidecar& sidecar : plan.sidecars)
        fetch.sidecars.emplace_back(sidecar.relative_path, sidecar.content);
    }
    core::Item& item = (*items)[i];
    if (!item.path.empty() && item.path != directory + "/" + fetch.relative_path) {
      // A path the request set outside the destination (an absolute one).
      const std::size_t slash = item.path.rfind('/');
      fetch.directory = item.path.substr(0, slash == 0 ? 1 : slash);
      fetch.relative_path = item.path.substr(slash + 1);
    }
    item.path = fetch.directory + "/" + fetch.relative_path;  // on the instance
    fetch.links = item.extras->links;
    auto command = remote::build_fetch_command(fetch);
    if (!command) return host_.run_finished(job_id, fail(command.error()));
    steps.push_back(remote::RemoteStep{std::move(command->command), std::move(command->env),
                                       std::move(command->secrets)});
    fetches.push_back(std::move(fetch));
  }
  const bool unnamed = job->name == net::redact_url(job->source);
  host_.items_planned(job_id, std::move(*items), unnamed ? plan.name : std::string());
  job = host_.job(job_id);
  spdlog::info("job {}: {} file(s) to {} on instance {}", job_id, job->items.size(), directory,
               job->target);
  // Native sources on an instance: UI_HOME is the request's, else the instance's.
  std::string ui_home = instance->ui_home;
  if (auto own = job->source_options->find("ui_home"); own != job->source_options->end())
    ui_home = own->second;
  commands_.submit(*job, *instance, ui_home, std::move(steps), {},
                   remote::build_partial_cleanup(fetches));
}

void FetchRunner::stop(const std::string& job_id, scheduler::StopReason reason) {
  if (resolving_.erase(job_id) != 0) {
    // Only the plan was being fetched: nothing runs on the instance yet.
    return host_.run_finished(job_id, fail(ErrorCode::kCancelled, "stopped"));
  }
  commands_.stop(job_id, reason);
}

}  // namespace haul::runners
