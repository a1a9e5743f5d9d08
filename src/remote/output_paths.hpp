// Where a remote command writes its downloads, so that a cancelled or failed
// step leaves no partial file under a final name in UI_HOME (where ComfyUI
// would list it as a model). Two sources, both pure:
//   - the command line (plan_outputs): wget -O/-P and the URL's name, curl
//     -o/-O/--output-dir, aria2c -d/-o and the URL's name (plus aria2c's
//     NAME.aria2 control file), with $UI_HOME, the step's variables, ~ and
//     $HOME expanded as the remote shell would, and `cd`, `VAR=value` and
//     `bash -c '...'` followed. A word that needs anything else (an unknown
//     variable, $(...), a glob) is unknown, and so is the path it makes: it
//     is left out rather than guessed.
//   - the tools' own output (OutputPathLearner): wget's "Saving to: 'X'" (the
//     real name, e.g. X.1 next to an installed X) and "'X' saved [N/N]",
//     aria2c's "Renamed to X", "Download complete: X", its FILE: lines and
//     result rows.
// The runner removes those paths on the instance after a cancel or a
// failure (build_output_removal in ssh_script.hpp decides, from what the run
// recorded when it started, which of them it may delete).
//
// Paths are absolute, or relative to the login directory (where a remote
// command starts), without "." components or repeated slashes.
//
// Threading: plan_outputs is a pure function; an OutputPathLearner belongs to
// one thread.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "remote/progress/line_splitter.hpp"

namespace haul::remote {

struct OutputPlan {
  // Files the download tools of the command will write, in order, each once.
  std::vector<std::string> files;
  // The directory the download tools run in, for the relative names they
  // print: "" = the login directory; nullopt when unknown, or when tools run
  // in different directories.
  std::optional<std::string> tool_dir;
};

// Reads `command` (a shell command line) with `vars` (the variables the
// remote shell will have and haul knows: UI_HOME and the step's
// environment). Never fails: what it cannot read is left out.
OutputPlan plan_outputs(std::string_view command, const std::map<std::string, std::string>& vars);

// Learns from a command's output (stdout and stderr together, in chunks cut
// anywhere, "\r\n" or "\n", ANSI colours) which files the tools wrote and
// which of them they finished.
class OutputPathLearner {
 public:
  // Caps what a hostile stream can make it remember.
  static constexpr std::size_t kMaxPaths = 256;

  // `tool_dir`: see OutputPlan::tool_dir; relative names are dropped when it
  // is nullopt.
  explicit OutputPathLearner(std::optional<std::string> tool_dir);

  void feed(std::string_view chunk);
  // End of output: reads an unterminated last line.
  void finish();

  // Files the tools said they were writing or wrote, in order, each once
  // (an aria2c file with its NAME.aria2 control file).
  const std::vector<std::string>& written() const { return written_; }
  // Those of them the tools reported complete (wget's "saved [N/N]",
  // aria2c's "Download complete" and OK rows): not partial, so kept.
  const std::set<std::string>& completed() const { return completed_; }

 private:
  void on_line(std::string_view text);
  std::optional<std::string> resolve(std::string_view printed) const;
  void wrote(std::string_view printed, bool aria2c);
  void finished(std::string_view printed);

  std::optional<std::string> tool_dir_;
  progress::LineSplitter splitter_;
  std::vector<std::string> written_;
  std::set<std::string> completed_;
  bool in_results_ = false;  // inside aria2c's "Download Results:" table
};

// `path` joined to directory `dir` (both in the form above; an absolute path
// stays as it is), "." components and repeated slashes removed, ".." kept.
std::string join_path(std::string_view dir, std::string_view path);

}  // namespace haul::remote
