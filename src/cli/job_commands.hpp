// The CLI commands that drive a running daemon over its REST API:
// haul add, jobs, pause, resume, retry, cancel, status.
// Exit codes: 0 done, 1 the daemon refused or failed, 2 bad usage.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/daemon_client.hpp"
#include "cli/source_flags.hpp"

namespace haul::cli {

struct AddOptions {
  std::vector<std::string> sources;
  std::string to;   // instance; empty = local
  std::string dir;  // relative to the daemon's models root
  std::optional<int> priority;
  std::string sha256;
  std::string group;
  std::string name;
  std::optional<int> max_attempts;
  SourceFlags source_flags;
  bool json = false;
};
int run_add(DaemonClient& client, const AddOptions& options);

struct JobsOptions {
  std::string state;
  std::string format = "table";  // table | json | simple
};
int run_jobs(DaemonClient& client, const JobsOptions& options);

// pause | resume | retry | cancel for each id (full ids or unique prefixes).
int run_action(DaemonClient& client, const std::string& action,
               const std::vector<std::string>& ids);

// haul cancel --path P: every unfinished job writing P (a file or a folder).
int run_cancel_path(DaemonClient& client, const std::string& path);
// haul cancel --group G --model M: the jobs of that model (group and name).
int run_cancel_model(DaemonClient& client, const std::string& group, const std::string& model);
// haul cancel --all: every unfinished job.
int run_cancel_all(DaemonClient& client);

// haul logs JOB [-f]: what the job's commands printed (the tail kept with
// each item); with `follow`, new lines as they come until the job ends.
int run_logs(DaemonClient& client, const std::string& id, bool follow);

struct StatusOptions {
  bool debug = false;    // settings, credentials set (never values), the pid file
  std::string data_dir;  // where the pid file is; default $HAUL_DATA_DIR or ./data
};
int run_status(DaemonClient& client, const StatusOptions& options);

}  // namespace haul::cli
