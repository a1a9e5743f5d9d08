// `haul get`: download sources to local files in this process, with progress
// on the terminal. The engine does the work; this file wires options, the
// progress printer, Ctrl-C and the exit code.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/source_flags.hpp"

namespace haul::cli {

struct GetOptions {
  std::vector<std::string> sources;
  SourceFlags source_flags;
  std::string output_file;  // -o
  std::string output_dir;   // -d
  std::optional<std::string> sha256;
  int connections = 8;
  std::string limit_rate;       // overall cap, e.g. "50M"; "" = none
  std::string file_limit_rate;  // per-file cap; "" = none
  std::vector<std::string> headers;
  bool json = false;
  bool quiet = false;
  bool buffered_io = false;  // write through the page cache instead of O_DIRECT
  int max_tries = 5;
  double connect_timeout = 10;  // seconds
  double stall_timeout = 30;    // seconds without a byte before reconnecting
  double give_up_after = 60;    // seconds without a byte before failing; 0 = never
};

// Exit codes: 0 every file done, 1 any failed, 2 bad usage, 130 interrupted.
int run_get(const GetOptions& options);

}  // namespace haul::cli
