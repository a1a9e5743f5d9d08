// The SSH command a cloud console prints for an instance
// (`ssh -p 44686 root@109.231.106.68 -L 8080:localhost:8080`), parsed into
// the target haul connects to with libssh, and the quoting used for values
// that go into remote shell commands. Pure: no I/O, no environment lookups
// (`~` in paths is left for the caller to expand).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"

namespace haul::remote {

struct SshTarget {
  std::string user;  // "" when none was given (the caller's default applies)
  std::string host;  // name or address; IPv6 without brackets: "::1"
  int port = 22;
  std::vector<std::string> identity_files;  // -i, in order, as written ("~/.ssh/key")
  std::vector<std::string> jump_hosts;      // -J a,b (and repeated -J), one hop each, as written
  // -o options in order: "-o StrictHostKeyChecking=no" gives {"StrictHostKeyChecking", "no"};
  // "-o 'ProxyCommand ssh -W %h:%p bastion'" gives {"ProxyCommand", "ssh -W %h:%p bastion"}.
  std::vector<std::pair<std::string, std::string>> options;
  // Forwardings, flag and spec: "-L 8080:localhost:8080", "-R ...", "-D 1080".
  std::vector<std::string> forwards;
  // Every other option, as an argv fragment: each flag its own element ("-t",
  // "-A"), followed by its argument when it takes one ("-F", "/etc/ssh/cfg").
  std::vector<std::string> kept_args;
  std::string original;  // the command as given, without surrounding whitespace

  // "user@host:port", "[::1]:22" for IPv6, "host:port" without a user.
  std::string display() const;
};

// Jump hosts one target may go through. Each hop's ProxyCommand quotes the
// previous one, so the command grows threefold per hop (20 hops would be
// gigabytes); ssh users rarely chain more than two or three.
inline constexpr std::size_t kMaxJumpHosts = 8;

// Parses what a user pastes from a cloud console. Accepted:
//  - `ssh ARGS...` (or `/usr/bin/ssh`), or the arguments alone (`root@host`,
//    `-p 2222 root@host`);
//  - options before and after the destination, clustered (`-tt`, `-p2222`,
//    `-Cp 2222`, `-oKey=Value`), and `--` ending them;
//  - destinations `[user@]host`, `[user@][v6addr]`, `ssh://[user@]host[:port]`
//    (user %-decoded; IPv6 in brackets);
//  - shell quoting: '...', "..." (with \" \\ \$ \` escapes), backslashes,
//    backslash-newline, and a trailing `# comment`.
// Like ssh(1), the first user (-l, -o User, destination) and the first port
// (-p, -o Port, ssh:// port) given win; `-o HostName=` replaces the host
// (%h in it expands to the destination host). Options ssh(1) knows but haul
// does not use are kept in kept_args, never dropped.
// Errors, kInvalidArgument, one line each: empty command; unbalanced quotes;
// shell syntax (`;`, `|`, `&`, `<`, `>`, `(`, `)`, backtick); an option letter
// ssh(1) does not have; an option without its value; a bad port (not 1-65535);
// a bad -o or -J value; more than kMaxJumpHosts jump hosts; no destination; a missing user before
// '@'; an invalid host (empty, starting with '-', or with characters no host name has); a
// `host:port` destination (not ssh syntax); a remote command after the
// destination ("the SSH command must not include a remote command: '...'").
Result<SshTarget> parse_ssh_command(std::string_view text);

// Splits `text` into words the way sh would, without expansions (`$HOME` and
// `~` stay as written). Errors (kInvalidArgument): unbalanced quotes, a
// trailing lone backslash, unquoted shell operators (; | & < > ( ) `).
Result<std::vector<std::string>> split_shell_words(std::string_view text);

// What the jump hosts' ssh(1) must know to behave like haul's own session.
struct JumpSettings {
  std::vector<std::string> identity_files;  // passed on with -i (the hops often share the key)
  std::string known_hosts;                  // UserKnownHostsFile for the hops
  bool strict_host_keys = false;            // else StrictHostKeyChecking=accept-new
  int connect_timeout_seconds = 15;
  bool read_ssh_config = true;  // false: -F none (haul's session reads none either)
};

// The ProxyCommand that reaches the target through `jump_hosts` (`-J a,b`:
// a first, then b) as ssh's ProxyJump does, but with `settings` applied to
// every hop (ssh's own -J passes its options to none of them): hop k runs
// `ssh OPTIONS -o ProxyCommand=<hop k-1> -W NEXT HOP`, the last with NEXT =
// '[%h]:%p' for libssh to expand. Batch mode (no prompt); every word
// shell-quoted (libssh runs it with sh -c). Hops as ssh -J takes them:
// [user@]host[:port] or ssh://... Errors (kInvalidArgument): a hop that is
// not a host; more than kMaxJumpHosts hops. Precondition: jump_hosts not empty.
Result<std::string> jump_proxy_command(const std::vector<std::string>& jump_hosts,
                                       const JumpSettings& settings);

// `value` as one sh word that stands for exactly these bytes: unchanged when
// made only of [A-Za-z0-9_@%+=:,./-] and not empty (like Python's
// shlex.quote), otherwise in single quotes with each ' written as '\''.
// Safe for any bytes except NUL, which no shell word can hold (a NUL cuts the
// command string short, leaving an unclosed quote: a syntax error, never an
// injection).
std::string shell_quote(std::string_view value);

}  // namespace haul::remote
