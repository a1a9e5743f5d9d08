// haul models sync | status | progress: seed 002's download_models,
// get_download_progress and get_all_download_progress over the daemon's
// models API. A manifest given as a file here is sent to the daemon
// (registered under its file name); otherwise it names one the daemon has.
// Exit codes: 0 done, 1 the daemon refused or failed, 2 bad usage.
#pragma once

#include <string>

#include "cli/daemon_client.hpp"

namespace haul::cli {

struct ModelSyncOptions {
  std::string manifest;          // a file here, or a registered manifest's id
  std::string mode = "missing";  // all | missing | list | single
  std::string models;            // JSON: an array (list) or an object (single)
  std::string output;            // progress file the daemon keeps (seed 002's output_file)
  std::string to;                // instance; empty = this machine
  bool verify = false;           // hash files to decide what is corrupt
  bool json = false;
};
int run_models_sync(DaemonClient& client, const ModelSyncOptions& options);

struct ModelStatusOptions {
  std::string manifest;  // as for sync; empty = every registered manifest
  std::string state;     // only models in this state
  bool verify = false;
  std::string format = "table";  // table | json | simple
};
int run_models_status(DaemonClient& client, const ModelStatusOptions& options);

struct ModelProgressOptions {
  std::string group;
  std::string model;
  std::string path;
  bool all = false;
  std::string output;  // write the JSON here (atomically) instead of printing a table
  bool json = false;
  bool watch = false;  // with --output: rewrite every second until nothing is queued or running
};
int run_models_progress(DaemonClient& client, const ModelProgressOptions& options);

}  // namespace haul::cli
