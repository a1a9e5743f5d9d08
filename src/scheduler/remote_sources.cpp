// Native sources (URL, hf, CivitAI, S3) with an instance as target: the
// source is resolved here, like a local job's (on the resolver pool, at every
// attempt), and each planned file becomes a fetch command run on the instance
// (remote/fetch_script.hpp): curl resumes there, the SHA-256 is checked
// there, and tokens and keys reach the instance only through the command's
// environment. Control thread, except the resolution itself.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/text.hpp"
#include "remote/fetch_script.hpp"
#include "scheduler/running.hpp"
#include "scheduler/scheduler.hpp"
#include "transfer/file_name.hpp"
#include "transfer/url.hpp"

namespace haul::scheduler {

using core::Job;
using core::JobState;

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
  if (fetch.relative_path.empty())
    fetch.relative_path = transfer::file_name_from_url(file.fetch.url);
  if (fetch.relative_path.empty()) fetch.relative_path = "download";
  fetch.size = file.size;
  fetch.sha256 = file.sha256;
  return fetch;
}

}  // namespace

Result<void> Scheduler::add_remote_fetch_items(Job& job, const JobRequest& request) const {
  if (resolve_options(job).hf_cache)
    return fail(ErrorCode::kInvalidArgument, "hf_cache applies to local jobs only");
  if (auto added = add_source_items(job, request); !added) return fail(added.error());
  auto destination = remote_destination(request.dest);
  if (!destination) return fail(destination.error());
  job.destination = *destination;
  // No destination given: a CivitAI model goes to the folder of its type.
  if (request.dest.empty()) job.source_options["auto_folder"] = "1";
  name_after_source(job);
  return {};
}

void Scheduler::start_remote_sources(Job& job, Running& run) {
  if (needs_resolution(job)) return resolve(job, run);
  // Plain URLs: nothing to learn before the fetch.
  sources::Plan plan;
  for (const core::Item& item : job.items) {
    sources::PlannedFile file;
    file.key = item.source;
    file.fetch.url = item.source;
    file.sha256 = item.sha256;
    file.size = item.size;
    plan.files.push_back(std::move(file));
  }
  adopt_plan(job, run, plan);
  start_remote_fetches(job, run, {});
}

void Scheduler::start_remote_fetches(Job& job, Running& run,
                                     const std::vector<sources::Sidecar>& sidecars) {
  const std::string directory = run.destination.generic_string();
  std::vector<remote::RemoteStep> steps;
  std::vector<remote::RemoteFetch> fetches;
  for (core::Item& item : job.items) {
    remote::RemoteFetch fetch = fetch_of(run.planned.at(item.source), directory);
    if (steps.empty()) {
      for (const sources::Sidecar& sidecar : sidecars)
        fetch.sidecars.emplace_back(sidecar.relative_path, sidecar.content);
    }
    item.path = directory + "/" + fetch.relative_path;  // on the instance
    auto command = remote::build_fetch_command(fetch);
    if (!command) {
      item.state = JobState::kFailed;
      item.error = core::JobError{std::string(error_code_name(command.error().code)),
                                  command.error().message};
      run.failure = command.error();
      persist(job);
      return conclude_stop(job, run);
    }
    steps.push_back(remote::RemoteStep{std::move(command->command), std::move(command->env)});
    fetches.push_back(std::move(fetch));
  }
  spdlog::info("job {}: {} file(s) to {} on instance {}", job.id, job.items.size(), directory,
               job.target);
  bus_.publish(core::EventType::kProgress, job);
  persist(job);
  submit_remote(job, run, std::move(steps), remote::build_partial_cleanup(fetches));
}

}  // namespace haul::scheduler
