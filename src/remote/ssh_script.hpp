// The shell text haul sends to a remote instance to run one command, and the
// stream filters that read its answer. Pure functions, no I/O: the SSH
// session (ssh_session.hpp) sends these bytes and feeds what comes back.
//
// How a command runs (see ssh_session.hpp for why):
//   exec request:  exec sh -s
//   channel stdin: export NAME='value' lines, then a wrapper that starts the
//                  command in a new session/process group with setsid, prints
//                  "@@HAUL_PGID=<pgid>" on stderr, and runs the command with
//                  the user's login shell ("$SHELL -c COMMAND", stdin
//                  /dev/null); then EOF.
// Secrets therefore travel only inside the encrypted channel's stdin and end
// up in the command's environment, never in any process's argv.
//
// A durable run may put the command on a pseudo-terminal (util-linux
// `script`), so that tools print live progress as on a console (aria2c holds
// its readout back when stdout is a file); and it records which of the paths
// the command may write existed when it started, so that a failed or
// cancelled run's partial files can be removed without touching files that
// were there before (build_output_removal).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace haul::remote {

// The exec request that starts the script reader on the remote side.
inline constexpr std::string_view kRunExecRequest = "exec sh -s";
// Marker the wrapper prints (alone on a line) before the command starts.
inline constexpr std::string_view kPgidMarker = "@@HAUL_PGID=";

// POSIX shell single-quoting, always quoted (unlike ssh_command.hpp's
// shell_quote, which leaves safe words bare): the result is one word whose
// value is exactly `value` ("it's" -> 'it'\''s'). Precondition: no NUL byte
// (a shell cannot hold one; build_run_script checks).
std::string single_quote(std::string_view value);

// A portable environment variable name: [A-Za-z_][A-Za-z0-9_]*.
bool is_env_name(std::string_view name);

// How build_run_script runs the command.
struct RunScriptOptions {
  // Relative to the remote $HOME: makes the run durable (see below). "" = the
  // command runs attached to the channel.
  std::string run_dir;
  // Durable runs only: run the command on a pseudo-terminal of its own
  // (`script -qfec`, util-linux), 200 columns wide, with stdin from /dev/null
  // and a terminal that never waits for input (-icanon min 0: a read of
  // /dev/tty returns at once). Its output then ends lines in "\r\n". Where
  // `script` is missing or cannot make a terminal, or /proc is unreadable
  // (the kill request needs it to find the terminal's process group), the
  // command runs without one; run_dir/mode says "pty" or "plain".
  bool terminal = false;
  // Durable runs only: paths (absolute, or relative to the login directory)
  // the command may write. When the command starts, run_dir/started is
  // created and run_dir/before lists each of them as "+PATH" (it existed) or
  // "-PATH" (it did not); see build_output_removal. Paths holding control
  // characters are left out.
  std::vector<std::string> watch;
};

// The script written to the channel's stdin. Errors (kInvalidArgument, naming
// the offender but never a value): an env name that is not a valid name, a NUL
// byte in a value or in the command, an empty command, a run_dir that is not
// a plain relative path.
//
// With a `run_dir` (relative to the remote $HOME) the run is durable: the
// command starts detached (setsid, output to run_dir/out, its status to
// run_dir/rc, its group to run_dir/pgid) and the channel only follows it,
// copying the output to stderr and exiting with the command's status. When
// the channel goes away (daemon restart, dropped connection) the command runs
// on; the same script sent again re-attaches to it (replaying the last 64 KiB
// of output), or reports it when it has finished with status 0 meanwhile. A
// command that failed, or was killed, is started afresh.
Result<std::string> build_run_script(std::string_view command,
                                     const std::map<std::string, std::string>& env,
                                     const RunScriptOptions& options);
// The same without a terminal or watched paths.
Result<std::string> build_run_script(std::string_view command,
                                     const std::map<std::string, std::string>& env,
                                     std::string_view run_dir = {});

// A command line (for any login shell: it runs `sh -c '...'`) that removes
// `paths`, the files a durable run in `run_dir` wrote, after it failed or was
// killed. A path is removed only when it is a regular file (never a
// directory or a device such as /dev/null) and either run_dir/before says it
// did not exist when the run started, or it was modified after
// run_dir/started (GNU or busybox find -newer): a file that was there before
// and that the run left alone (wget -nc, an installed model) stays. Without
// run_dir/before (the run never started), or when run_dir/rc says it
// finished with status 0 after all, nothing is removed. Paths are
// absolute or relative to the login directory, where the command runs;
// paths holding control characters are skipped. Exits 0.
std::string build_output_removal(std::string_view run_dir, const std::vector<std::string>& paths);

// The exec request for a second channel that ends process group `pgid`:
// SIGTERM to the group, up to ~2 s for it to exit, then SIGKILL. With /proc
// readable, the process groups of every descendant of the group are ended
// with it: a command on a pseudo-terminal runs in a session of its own (and
// wget survives the SIGHUP of a closed terminal). Exits 0 whether or not the
// group still existed. Precondition: pgid > 1.
std::string build_kill_request(long pgid);

// Removes the wrapper's marker line from the command's stderr stream and
// records the process group id it announces. Lines before the marker (noise
// from the remote user's shell startup files) pass through; the partial line
// at the end of a chunk is held back until its newline arrives, at most
// kMaxHeld bytes, while the marker has not been seen yet.
class PgidMarkerFilter {
 public:
  static constexpr std::size_t kMaxHeld = 4096;

  // The part of `chunk` that is the command's own stderr output.
  std::string feed(std::string_view chunk);
  // At end of stream: whatever is still held back.
  std::string finish();
  // The marker line has been seen (its value may still be "none").
  bool seen() const { return seen_; }
  // The announced process group; nullopt before the marker or when the remote
  // side could not create one ("none").
  std::optional<long> pgid() const { return pgid_; }

 private:
  bool take_marker(std::string_view line, std::string& out);

  std::string held_;
  bool seen_ = false;
  std::optional<long> pgid_;
};

// The last `capacity` bytes of a stream (the stderr tail of an error
// message). Never starts in the middle of a UTF-8 sequence.
class TailBuffer {
 public:
  explicit TailBuffer(std::size_t capacity) : capacity_(capacity) {}
  void append(std::string_view data);
  std::string str() const;

 private:
  std::size_t capacity_;
  std::string data_;
};

}  // namespace haul::remote
