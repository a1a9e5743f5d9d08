// One SSH connection to a rented instance (libssh), reused for every command
// a job runs there: connect with host-key checking and public-key auth, run
// shell commands with streamed output, a timeout and a cancel that kills the
// remote process group, keepalives, and a liveness check for reconnects.
//
// Threads: a SshSession is NOT thread-safe. It belongs to one owner thread
// (an SSH worker, never the control thread: every call blocks on the
// network), which makes every call, including the destructor. Only the
// `cancel` flag passed to run() may be written from another thread.
//
// Environment passing: CommandSpec::env is written, as `export K='v'` lines,
// to the stdin of `exec sh -s` on the remote side, followed by a wrapper that
// runs the command (the command line itself is visible in argv, as with
// `ssh host cmd`; the env values are not). No env value appears in any
// process's argv (so not in `ps`), in the SSH exec request or in sshd's logs,
// and values need no AcceptEnv on the server. We do not use the SSH "env"
// channel request: stock sshd refuses all but LANG/LC_*, each refusal costs a
// round trip, and one uniform path is easier to trust.
//
// Process groups: the wrapper starts the command under `setsid`, in a new
// session, and reports its id on stderr (that marker line is removed from the
// output). Cancel and timeout open a second channel that sends SIGTERM to the
// whole group and, if any member is still alive (zombies ignored) ~2 s later,
// SIGKILL; children the command spawned die too, where closing the channel
// alone would leave them running. Without `setsid` on the remote side the
// login shell's own group is used when the shell leads one (sshd makes it so
// on Linux); failing that the channel is only closed.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"

namespace haul::remote {

struct SshEndpoint {
  std::string host;  // a name, an address, or a Host alias from ~/.ssh/config
  int port = 22;     // 22 lets ~/.ssh/config choose; any other value wins over it
  std::string user;  // "" = ~/.ssh/config's User, else the local user name
  // Private keys tried first, in order (`ssh -i`). Keys with a passphrase
  // cannot be used (no prompt); load them into the agent instead.
  std::vector<std::string> identity_files;
  // `ssh -o Name=Value` pairs (names case-insensitive), applied after
  // ~/.ssh/config like ssh does. Supported: User, Port, HostName, IdentityFile,
  // IdentitiesOnly, IdentityAgent, StrictHostKeyChecking (yes/ask = strict,
  // accept-new/no/off = accept new keys; a changed key is always refused),
  // UserKnownHostsFile, ConnectTimeout, ServerAliveInterval, ProxyCommand,
  // Ciphers, KexAlgorithms, HostKeyAlgorithms, MACs, Compression,
  // PubkeyAcceptedAlgorithms / PubkeyAcceptedKeyTypes. Others are not
  // applied and are listed by SshSession::ignored_options().
  std::vector<std::pair<std::string, std::string>> options;
  // `ssh -J` hops, reached through the local ssh(1) as a ProxyCommand (see
  // jump_proxy_command); cannot be combined with -o ProxyCommand.
  std::vector<std::string> jump_hosts{};
};

enum class HostKeyPolicy {
  kAcceptNew,  // unknown host: its key is added to known_hosts; changed key: refused
  kStrict,     // unknown host: refused too
};

struct SessionOptions {
  // Where config, default keys (id_ed25519, id_ecdsa, id_rsa) and the default
  // known_hosts live; "" = ~/.ssh.
  std::filesystem::path ssh_dir;
  std::filesystem::path known_hosts;  // "" = <ssh_dir>/known_hosts (or the config's)
  HostKeyPolicy policy = HostKeyPolicy::kAcceptNew;
  // TCP connect + SSH handshake + auth, and any single blocking protocol
  // exchange later (opening a channel, a keepalive round trip).
  std::chrono::seconds connect_timeout{15};
  // Idle time after which a keepalive is sent, during a command without
  // output and from keepalive(); also the TCP keepalive idle time.
  std::chrono::seconds keepalive{30};
  bool use_agent = true;        // try ssh-agent (SSH_AUTH_SOCK or IdentityAgent)
  bool read_ssh_config = true;  // <ssh_dir>/config, then /etc/ssh/ssh_config
};

struct CommandSpec {
  // A shell command line, run by the remote user's login shell ($SHELL -c)
  // with stdin from /dev/null.
  std::string command;
  // Exported before the command runs; see "Environment passing" above. Names
  // must be [A-Za-z_][A-Za-z0-9_]*; values may hold any byte except NUL.
  std::map<std::string, std::string> env;
  std::chrono::seconds timeout{3600};
  // Relative to the remote $HOME: makes the run durable (see
  // build_run_script in ssh_script.hpp): the command survives this channel,
  // and a later run with the same run_dir re-attaches to it. "" = attached.
  std::string run_dir{};
  // Durable runs only (see RunScriptOptions in ssh_script.hpp): the command
  // gets a pseudo-terminal of its own on the instance where one can be made,
  // so tools print live progress; its output then ends lines in "\r\n".
  bool terminal = false;
  // Durable runs only: paths the command may write, whose existence is
  // recorded when it starts (see build_output_removal).
  std::vector<std::string> watch{};
  // Set from another thread: stop following the command and return
  // (cancelled and detached), leaving it running. Only for durable runs.
  const std::atomic<bool>* detach = nullptr;
};

struct CommandResult {
  // The command's exit status; 128+N when the shell reports it died by signal
  // N; -1 when unknown (cancelled before start, channel closed without one).
  int exit_status = -1;
  bool timed_out = false;   // killed because spec.timeout elapsed
  bool cancelled = false;   // killed (or never started) because `cancel` was set
  bool detached = false;    // (with cancelled) left running because `detach` was set
  std::string stderr_tail;  // last ~4 KiB of stderr
};

// Receives output as it arrives: stdout chunks (is_stderr false) and stderr
// chunks, in arrival order per stream; chunks split lines arbitrarily.
using OutputFn = std::function<void(std::string_view chunk, bool is_stderr)>;

class SshSession {
 public:
  // Connects, verifies the host key and authenticates. Auth order: the
  // endpoint's identity files, then the agent (when use_agent), then the
  // default keys (~/.ssh/id_ed25519, id_ecdsa, id_rsa and IdentityFile lines
  // from the config, via libssh's publickey_auto).
  // Errors, one line each, naming user@host:port (see ssh_errors.hpp):
  //   kUnavailable       "... connection refused" / "... timed out after N s"
  //                      / a resolver that cannot answer now / other network
  //                      failure: transient
  //   kNotFound          "... the host name 'h' does not resolve": permanent
  //   kPermissionDenied  "... host key changed" (with the new SHA256
  //                      fingerprint and the ssh-keygen -R line to fix it),
  //                      "... host key ... is not in known_hosts" (kStrict),
  //                      "... authentication failed (tried: ...)"
  //   kIo                known_hosts cannot be read or written
  //   kInvalidArgument   empty host, bad port or option value, unreadable config
  // The host-key policy is SessionOptions::policy (or an -o
  // StrictHostKeyChecking); a StrictHostKeyChecking line in the config file
  // is not consulted.
  static Result<std::unique_ptr<SshSession>> connect(const SshEndpoint& endpoint,
                                                     const SessionOptions& options);

  ~SshSession();
  SshSession(const SshSession&) = delete;
  SshSession& operator=(const SshSession&) = delete;

  // Runs one command and waits for it, streaming its output to on_output
  // (called on this thread). `cancel` and spec.timeout are checked at least
  // every ~100 ms; either kills the remote process group (see above) and
  // returns a result with cancelled / timed_out set. If `cancel` is already
  // set, nothing is started. Errors: kInvalidArgument (bad spec: see
  // build_run_script), kUnavailable when the session is or becomes
  // disconnected (the remote command may then still be running: there is no
  // connection left to kill it with).
  Result<CommandResult> run(const CommandSpec& spec, const OutputFn& on_output,
                            const std::atomic<bool>& cancel);

  // Sends a keepalive and reports whether the server answered; false once the
  // connection is gone (server restarted, network dropped, or no answer
  // within connect_timeout, which it blocks for at most). A dead session
  // stays dead: connect() again.
  bool alive();
  // Sends a keepalive if nothing was exchanged for options.keepalive; call it
  // periodically while the session is idle between commands.
  void keepalive();

  // "user@host:port", as used in messages.
  const std::string& target() const { return target_; }
  // Endpoint options that were not applied (unsupported names), "Name=Value".
  const std::vector<std::string>& ignored_options() const { return ignored_options_; }

 private:
  struct Handle;  // owns the libssh session

  SshSession(std::unique_ptr<Handle> handle, std::string target, SessionOptions options,
             std::vector<std::string> ignored_options);

  bool connected() const;
  // Sends keepalive@openssh.com and waits for the answer; false (and the
  // session marked unresponsive) when none came within connect_timeout.
  bool send_keepalive();
  void mark_activity();
  // Closes the connection without a goodbye (peer unreachable or protocol
  // state unknown). Precondition: no channel of ours exists any more.
  void drop();
  // run() after the checks: the command's channel, output loop and kill.
  Result<CommandResult> execute(const CommandSpec& spec, const std::string& script,
                                const OutputFn& on_output, const std::atomic<bool>& cancel);
  Result<void> kill_process_group(long pgid);

  std::unique_ptr<Handle> handle_;
  std::string target_;
  SessionOptions options_;
  std::vector<std::string> ignored_options_;
  std::chrono::steady_clock::time_point last_activity_;
  bool unresponsive_ = false;  // a keepalive went unanswered: treated as disconnected
};

}  // namespace haul::remote
