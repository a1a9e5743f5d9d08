// `haul serve`: the daemon. Wires the store, scheduler, transfer engine and
// API together and runs until SIGINT/SIGTERM.
#pragma once

#include <string>
#include <vector>

namespace haul::daemon {

struct ServeOptions {
  std::string listen = "127.0.0.1:5000";
  std::string data_dir;                   // default: $HAUL_DATA_DIR or ./data
  std::string store;                      // "sqlite:PATH" or "postgres://..."; default: sqlite
  std::string node;                       // name on a shared queue; default: the host name
  std::string lease = "15s";              // a shared queue's lease; heartbeat every third
  std::string token;                      // default: $HAUL_TOKEN
  std::string library;                    // resource cards; default <data_dir>/resources
  std::string known_hosts;                // SSH known_hosts; "" = ~/.ssh/known_hosts
  bool strict_host_keys = false;          // refuse unknown instances instead of accept-new
  int command_timeout_s = 3600;           // per remote command
  std::vector<std::string> models_roots;  // allowed destinations; default: the working directory
  std::string log_format = "text";        // text | json (one object per line)
  std::string comfyui_dir;  // a ComfyUI install: its models/ and extra_model_paths.yaml
  std::vector<std::string> extra_model_paths;  // more extra_model_paths.yaml files
  std::string web_dir;  // serve the web UI from here (web/ of a checkout) instead of the binary
  int max_active = 3;
  int max_per_host = 0;
  int connections = 8;
  int max_attempts = 5;
  std::string retry_delay = "2s";          // before the 2nd attempt; doubles each time
  std::string max_retry_delay = "5m";      // cap of that wait
  int max_retry_after_s = 120;             // longer Retry-After ends the attempt; the job waits
  std::vector<std::string> allowed_hosts;  // extra Host names to accept
  bool quiet = false;                      // no console log, only the file
};

// Exit codes: 0 after a clean stop, 1 when the daemon cannot start, 2 for bad options.
int run_serve(ServeOptions options);

}  // namespace haul::daemon
