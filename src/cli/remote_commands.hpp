// The CLI commands for remote instances, against a running daemon:
// haul instances [list] | add NAME 'ssh ...' [--ui-home DIR] | rm NAME |
// prune [--older-than 7d],
// and haul install --to INSTANCE RESOURCE_PATH... (resource cards).
// Exit codes: 0 done, 1 the daemon refused or failed, 2 bad usage.
#pragma once

#include <string>
#include <vector>

#include "cli/daemon_client.hpp"

namespace haul::cli {

struct InstanceOptions {
  std::string name;
  std::string ssh_command;
  std::string ui_home;
  int max_parallel = 1;
};

int run_instances_list(DaemonClient& client);
int run_instances_add(DaemonClient& client, const InstanceOptions& options);
int run_instances_remove(DaemonClient& client, const std::string& name);
// Removes instances no job has used for `older_than` ("7d", "12h"); prints them.
int run_instances_prune(DaemonClient& client, const std::string& older_than);
// Queues one job with the cards' commands on `instance`; prints its id.
int run_install(DaemonClient& client, const std::string& instance,
                const std::vector<std::string>& cards);

}  // namespace haul::cli
