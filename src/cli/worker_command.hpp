// haul worker start|stop: the daemon as a background process, found again
// through <data-dir>/haul.pid.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cli/daemon_client.hpp"

namespace haul::cli {

struct WorkerOptions {
  std::string data_dir;  // default $HAUL_DATA_DIR or ./data
  std::string listen = "127.0.0.1:5000";
  std::vector<std::string> serve_args;  // passed on to `haul serve`
  bool force = false;                   // stop: cancel every download first
};

// The data directory: `given`, else $HAUL_DATA_DIR, else ./data; absolute.
std::filesystem::path data_dir_or_default(const std::string& given);

// What <data_dir>/haul.pid says: the pid written there (0: no file) and
// whether that process is alive (false with a pid: a stale file).
struct PidFileState {
  long pid = 0;
  bool alive = false;
};
PidFileState read_pid_file(const std::filesystem::path& data_dir);

// Starts `haul serve` detached, waits until it answers. 0, or 1 with the
// reason (its log's last lines when it died at start).
int run_worker_start(const WorkerOptions& options, const std::string& token);
// SIGTERM to the daemon in the pid file; waits for it to exit.
int run_worker_stop(const WorkerOptions& options, const std::string& token);

}  // namespace haul::cli
