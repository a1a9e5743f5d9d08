#include "cli/job_commands.hpp"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/client_calls.hpp"
#include "cli/job_table.hpp"
#include "cli/worker_command.hpp"
#include "net/url.hpp"

namespace haul::cli {

namespace {

using nlohmann::json;

bool unfinished(const json& job) {
  const std::string state = job.value("state", "");
  return state != "completed" && state != "failed" && state != "cancelled";
}

// Full ids pass through; a prefix must match exactly one job.
Result<std::string> resolve_id(DaemonClient& client, const std::string& given, json* cache) {
  if (given.size() == 36) return given;
  if (cache->is_null()) {
    auto jobs = get_json(client, "/api/v1/jobs");
    if (!jobs) return fail(jobs.error());
    *cache = (*jobs)["jobs"];
  }
  std::vector<std::string> matches;
  for (const json& job : *cache) {
    const std::string id = job.value("id", "");
    if (id.rfind(given, 0) == 0) matches.push_back(id);
  }
  if (matches.empty()) return fail(ErrorCode::kNotFound, "no job " + given);
  if (matches.size() > 1)
    return fail(ErrorCode::kInvalidArgument, "'" + given + "' matches several jobs", 400);
  return matches.front();
}

int act_on(DaemonClient& client, const std::string& action, const std::vector<std::string>& ids) {
  int failures = 0;
  for (const std::string& id : ids) {
    auto body = client.call("POST", "/api/v1/jobs/" + id + "/" + action);
    if (!body) {
      std::fprintf(stderr, "haul: %s %s: %s\n", action.c_str(), id.substr(0, 8).c_str(),
                   body.error().message.c_str());
      ++failures;
      continue;
    }
    const json job = json::parse(*body, nullptr, false);
    // A running job's stop is under way: say so rather than its old state.
    const json& pending = job.is_object() ? job["pending_action"] : json();
    const std::string state = pending == "cancel"  ? "cancelling"
                              : pending == "pause" ? "pausing"
                                                   : job.value("state", "?");
    std::printf("%s  %s  %s\n", id.substr(0, 8).c_str(), state.c_str(),
                job.value("name", "").c_str());
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace

int run_add(DaemonClient& client, const AddOptions& options) {
  json jobs = json::array();
  for (const std::string& source : options.sources) {
    json job = {{"source", source}};
    if (!options.to.empty()) job["target"] = options.to;
    if (!options.dir.empty()) job["dest"] = options.dir;
    if (options.priority) job["priority"] = *options.priority;
    if (!options.sha256.empty()) job["sha256"] = options.sha256;
    if (!options.group.empty()) job["group"] = options.group;
    if (!options.name.empty()) job["name"] = options.name;
    if (options.max_attempts) job["max_attempts"] = *options.max_attempts;
    const SourceFlags& flags = options.source_flags;
    if (!flags.include.empty()) job["include"] = flags.include;
    if (!flags.exclude.empty()) job["exclude"] = flags.exclude;
    if (!flags.file.empty()) job["file"] = flags.file;
    if (flags.with_preview) job["with_preview"] = true;
    if (flags.hf_cache) job["hf_cache"] = true;
    jobs.push_back(std::move(job));
  }
  auto body = client.call("POST", "/api/v1/jobs", json{{"jobs", jobs}}.dump());
  if (!body) return report(body.error());
  const json reply = json::parse(*body, nullptr, false);
  if (options.json) {
    std::printf("%s\n", reply["jobs"].dump().c_str());
    return 0;
  }
  for (const json& job : reply["jobs"]) {
    std::printf("%s  %s  %s%s\n", job.value("id", "").c_str(), job.value("state", "").c_str(),
                job.value("name", "").c_str(),
                job.value("existing", false) ? "  (already queued)" : "");
  }
  return 0;
}

int run_jobs(DaemonClient& client, const JobsOptions& options) {
  if (options.format != "table" && options.format != "json" && options.format != "simple") {
    std::fprintf(stderr, "haul jobs: --format must be table, json or simple\n");
    return 2;
  }
  std::string path = "/api/v1/jobs";
  if (!options.state.empty()) path += "?state=" + options.state;
  auto reply = get_json(client, path);
  if (!reply) return report(reply.error());
  const json& jobs = (*reply)["jobs"];
  if (options.format == "json") {
    std::printf("%s\n", jobs.dump(2).c_str());
  } else if (options.format == "simple") {
    std::fputs(format_jobs_simple(jobs).c_str(), stdout);
  } else {
    std::fputs(format_jobs_table(jobs).c_str(), stdout);
  }
  return 0;
}

int run_action(DaemonClient& client, const std::string& action,
               const std::vector<std::string>& ids) {
  json cache;
  std::vector<std::string> resolved;
  int failures = 0;
  for (const std::string& given : ids) {
    auto id = resolve_id(client, given, &cache);
    if (!id) {
      std::fprintf(stderr, "haul: %s\n", id.error().message.c_str());
      ++failures;
      continue;
    }
    resolved.push_back(*id);
  }
  const int acted = act_on(client, action, resolved);
  return failures == 0 ? acted : 1;
}

namespace {

// Cancels every unfinished job GET `query` lists; `what` names them when
// there is none ("writes /m/x", "of group loras and model x").
int cancel_listed(DaemonClient& client, const std::string& query, const std::string& what) {
  auto reply = get_json(client, query);
  if (!reply) return report(reply.error());
  std::vector<std::string> ids;
  for (const json& job : (*reply)["jobs"]) {
    if (unfinished(job)) ids.push_back(job.value("id", ""));
  }
  if (ids.empty()) {
    if (what.empty()) {
      std::printf("nothing to cancel\n");
      return 0;
    }
    std::fprintf(stderr, "haul: no unfinished job %s\n", what.c_str());
    return 1;
  }
  return act_on(client, "cancel", ids);
}

}  // namespace

int run_cancel_path(DaemonClient& client, const std::string& path) {
  // The daemon resolves the path as it resolves -d: relative to its models
  // root, absolute paths as given.
  return cancel_listed(client, "/api/v1/jobs?path=" + net::percent_encode(path), "writes " + path);
}

int run_cancel_model(DaemonClient& client, const std::string& group, const std::string& model) {
  return cancel_listed(
      client,
      "/api/v1/jobs?group=" + net::percent_encode(group) + "&name=" + net::percent_encode(model),
      "is model " + model + " of group " + group);
}

int run_cancel_all(DaemonClient& client) { return cancel_listed(client, "/api/v1/jobs", ""); }

int run_logs(DaemonClient& client, const std::string& given, bool follow) {
  json cache;
  auto id = resolve_id(client, given, &cache);
  if (!id) return report(id.error());
  const std::string path = "/api/v1/jobs/" + *id + "/output" + (follow ? "?follow=1" : "");
  auto streamed = client.stream(path, [](std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  });
  if (!streamed) return report(streamed.error());
  return 0;
}

int run_status(DaemonClient& client, const StatusOptions& options) {
  auto health = get_json(client, "/healthz");
  if (!options.debug) {
    if (!health) return report(health.error());
    std::fputs(format_status(*health, client.address().url).c_str(), stdout);
    return 0;
  }
  // --debug: what the daemon says of itself, then what its pid file says,
  // which holds even when it does not answer.
  std::string out;
  if (health) {
    out += format_status(*health, client.address().url);
    auto status = get_json(client, "/api/v1/status");
    if (status) {
      out += format_debug_status(*status);
    } else {
      out += "details: " + status.error().message + "\n";
    }
  } else {
    out +=
        "daemon: not answering at " + client.address().url + " (" + health.error().message + ")\n";
  }
  const std::filesystem::path data_dir = data_dir_or_default(options.data_dir);
  const PidFileState pid = read_pid_file(data_dir);
  out += "pid file " + (data_dir / "haul.pid").string() + ": ";
  if (pid.pid == 0) {
    out += "none (no daemon runs from this data directory)\n";
  } else if (pid.alive) {
    out += "pid " + std::to_string(pid.pid) + ", running\n";
  } else {
    out += "pid " + std::to_string(pid.pid) + ", stale (that process is gone)\n";
  }
  std::fputs(out.c_str(), stdout);
  return health ? 0 : 1;
}

}  // namespace haul::cli
