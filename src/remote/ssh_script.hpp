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
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

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
                                     std::string_view run_dir = {});

// The exec request for a second channel that ends process group `pgid`:
// SIGTERM to the group, up to ~2 s for it to exit, then SIGKILL. Exits 0
// whether or not the group still existed. Precondition: pgid > 1.
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
