// Progress parsers for commands run on remote instances: each reads one tool's
// output (stdout and stderr combined, in chunks split anywhere, with '\r'
// redraws and ANSI colours) and returns ProgressUpdate values. The parser is
// chosen from the command text: wget, curl, aria2c, tqdm (hf download,
// python), civitdl, or a generic one that still reports "NN%" and the last
// line so any command shows it is running.
//
// Parsers are pure (bytes in, values out) and single-threaded: one parser per
// command run, fed from one thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "remote/progress/progress_update.hpp"

namespace haul::remote::progress {

class ProgressParser {
 public:
  virtual ~ProgressParser();

  // Feeds a chunk of the command's combined stdout+stderr (any split, '\r'
  // and '\n', ANSI colour codes); returns the updates it completes.
  virtual std::vector<ProgressUpdate> feed(std::string_view chunk) = 0;
  // End of output: flushes a pending line. Later feeds return nothing.
  virtual std::vector<ProgressUpdate> finish() = 0;
  // "wget", "curl", "aria2c", "tqdm", "civitdl" or "generic".
  virtual std::string_view tool() const = 0;
};

enum class Tool { kGeneric, kWget, kCurl, kAria2c, kTqdm, kCivitdl };

// What parser_for_command decided, for callers and tests that want to know.
struct CommandTool {
  Tool tool = Tool::kGeneric;
  // The output file named on the command line (curl -o/-O, aria2c -o, wget
  // -O), used as the update name where the tool does not print one.
  std::string output_name;
};

// Reads a shell command: `a && b`, `a; b`, `a | tee log`, `bash -c '...'`,
// env assignments, sudo/env/timeout/nohup/nice/stdbuf/exec wrappers, paths
// such as /usr/bin/wget. The last simple command whose program is a known
// tool decides; "hf download"/"huggingface-cli download" and python mean
// tqdm. Anything else is kGeneric.
CommandTool detect_tool(std::string_view shell_command);

std::unique_ptr<ProgressParser> make_parser(const CommandTool& tool);

// detect_tool + make_parser. Never returns null.
std::unique_ptr<ProgressParser> parser_for_command(std::string_view shell_command);

}  // namespace haul::remote::progress
