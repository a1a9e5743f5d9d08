// Shell text for remote runs. Everything that reaches the remote shell from a
// caller (the command, env values) is single-quoted, so no value is ever
// parsed as shell syntax by the wrapper itself.
#include "remote/ssh_script.hpp"

#include <string>

#include "base/text.hpp"

namespace haul::remote {
namespace {

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

bool all_digits(std::string_view text) {
  if (text.empty() || text.size() > 10) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// `haul_alive G`: true while a process of group G is alive. Zombies do not
// count: a container whose PID 1 does not reap keeps killed processes as
// zombies, which `kill -0` still finds. /proc/PID/stat is read with builtins
// only (no fork per process); the fields after the ") " that ends the command
// name are state, ppid, pgrp. Without /proc, kill -0 is all there is.
constexpr std::string_view kAliveFunction =
    "haul_alive() {\n"
    "  haul_want=$1\n"
    "  if [ -r /proc/self/stat ]; then\n"
    "    for f in /proc/[0-9]*/stat; do\n"
    "      read -r l 2>/dev/null <\"$f\" || continue\n"
    "      l=${l##*) }; set -- $l\n"
    "      [ \"$3\" = \"$haul_want\" ] && [ \"$1\" != Z ] && return 0\n"
    "    done\n"
    "    return 1\n"
    "  fi\n"
    "  kill -s 0 -- -\"$haul_want\" 2>/dev/null\n"
    "}\n";

// `haul_groups G`: G and the process groups of every descendant of its
// members, transitively (a command on a pseudo-terminal runs in a session and
// group of its own under script(1)). One pass over /proc collects "pid ppid
// pgrp" lines; the closure is then taken in the shell. Never lists group 0,
// 1 or the caller's own.
constexpr std::string_view kGroupsFunction =
    "haul_groups() {\n"
    "  haul_gs=\" $1 \"; haul_ps=\" \"\n"
    "  haul_tab=$(for f in /proc/[0-9]*/stat; do\n"
    "    read -r l 2>/dev/null <\"$f\" || continue\n"
    "    p=${l%% *}; l=${l##*) }; set -- $l; echo \"$p $2 $3\"\n"
    "  done)\n"
    "  haul_more=1\n"
    "  while [ $haul_more = 1 ]; do\n"
    "    haul_more=0\n"
    "    while read -r p pp pg; do\n"
    "      case $haul_ps in *\" $p \"*) continue ;; esac\n"
    "      case $haul_gs in *\" $pg \"*) haul_ps=\"$haul_ps$p \"; haul_more=1; continue ;; esac\n"
    "      case $haul_ps in *\" $pp \"*)\n"
    "        haul_ps=\"$haul_ps$p \"; haul_gs=\"$haul_gs$pg \"; haul_more=1 ;;\n"
    "      esac\n"
    "    done <<haul_end\n"
    "$haul_tab\n"
    "haul_end\n"
    "  done\n"
    "  for pg in $haul_gs; do [ \"$pg\" -gt 1 ] && [ \"$pg\" != $$ ] && echo \"$pg\"; done\n"
    "}\n";

// Inside the pseudo-terminal (run by /bin/sh, whatever the login shell): a
// wide terminal that never waits for input, then the user's shell runs the
// command (passed in the environment, so not in script's argv) with stdin
// from /dev/null.
constexpr std::string_view kTerminalInner =
    "stty cols 200 rows 50 -echo -icanon min 0 time 0 2>/dev/null; "
    "haul_c=$HAUL_RUN_CMD; SHELL=$HAUL_RUN_SHELL; export SHELL; "
    "unset HAUL_RUN_CMD HAUL_RUN_SHELL; exec \"$SHELL\" -c \"$haul_c\" </dev/null";

// A path as the remote shell should see it: relative ones from the login
// directory, "./"-prefixed so that no path reads as an option.
std::string shell_path(const std::string& path) {
  return single_quote(path.front() == '/' ? path : "./" + path);
}

bool usable_path(const std::string& path) { return !path.empty() && !has_control_char(path); }

// Records, at launch, whether each watched path existed (see RunScriptOptions::watch).
std::string record_watched(const std::vector<std::string>& watch) {
  std::string lines = "  : >\"$haul_d/started\"\n  {\n    :\n";
  for (const std::string& path : watch) {
    if (!usable_path(path)) continue;
    const std::string quoted = shell_path(path);
    const std::string shown = path.front() == '/' ? path : "./" + path;
    lines += "    if [ -e " + quoted + " ] || [ -L " + quoted + " ]; then echo " +
             single_quote("+" + shown) + "; else echo " + single_quote("-" + shown) + "; fi\n";
  }
  return lines + "  } >\"$haul_d/before.tmp\" && mv \"$haul_d/before.tmp\" \"$haul_d/before\"\n";
}

// The durable wrapper (see build_run_script): start the command detached
// with its output in a file, or find it still running (or finished with
// status 0) from an earlier channel; then follow the file on stderr until the
// status file appears, and exit with that status.
std::string durable_run(const std::string& quoted_command, const RunScriptOptions& options) {
  // Inside the detached sh: $1 the command, $2 the run directory, $3 "pty"
  // or "plain", $4 kTerminalInner. Its own $$ is the new session and process
  // group (see the attached wrapper).
  const std::string detached =
      "echo \"$$\" >\"$2/pgid.tmp\" && mv \"$2/pgid.tmp\" \"$2/pgid\"; "
      "if [ \"$3\" = pty ]; then "
      "HAUL_RUN_CMD=$1 HAUL_RUN_SHELL=${SHELL:-/bin/sh} SHELL=/bin/sh "
      "script -qfec \"$4\" /dev/null </dev/null >\"$2/out\" 2>&1; "
      "else \"${SHELL:-/bin/sh}\" -c \"$1\" </dev/null >\"$2/out\" 2>&1; fi; "
      "echo \"$?\" >\"$2/rc.tmp\"; mv \"$2/rc.tmp\" \"$2/rc\"";
  const std::string args = " haul-run " + quoted_command + R"( "$haul_d" "$haul_mode" )" +
                           single_quote(kTerminalInner) + " </dev/null >/dev/null 2>&1 &\n";
  // script(1) from util-linux (-e: its exit status is the command's), a
  // terminal to open, and /proc for the kill request to find its group.
  const std::string choose_mode =
      options.terminal
          ? "    if [ -r /proc/self/stat ] && script -qfec true /dev/null </dev/null >/dev/null "
            "2>&1; then haul_mode=pty; fi\n"
          : "";
  return "haul_d=\"${HOME:-/tmp}\"/" + single_quote(options.run_dir) + "\n" +
         std::string(kAliveFunction) +
         "haul_launch() {\n"
         "  rm -rf \"$haul_d\" && mkdir -p \"$haul_d\" ||\n"
         "    { echo \"haul: cannot create $haul_d\" >&2; exit 125; }\n" +
         record_watched(options.watch) +
         "  haul_mode=plain\n"
         "  if command -v setsid >/dev/null 2>&1; then\n" +
         choose_mode +
         "    echo \"$haul_mode\" >\"$haul_d/mode\"\n"
         "    setsid sh -c " +
         single_quote(detached) + args +
         "  else\n"
         "    echo none >\"$haul_d/pgid\"; echo plain >\"$haul_d/mode\"\n"
         "    sh -c " +
         single_quote(detached.substr(detached.find("; ") + 2)) + args +
         "  fi\n"
         "}\n"
         // Copies what the command wrote since the last call to stderr.
         "haul_copy() {\n"
         "  haul_n=$(wc -c <\"$haul_d/out\" 2>/dev/null) || return 0\n"
         "  haul_n=$((haul_n))\n"
         "  if [ \"$haul_n\" -gt \"$haul_off\" ]; then\n"
         "    tail -c +\"$((haul_off + 1))\" \"$haul_d/out\" |\n"
         "      head -c \"$((haul_n - haul_off))\" >&2\n"
         "    haul_off=$haul_n\n"
         "  fi\n"
         "}\n"
         "haul_off=0\n"
         "if { [ -f \"$haul_d/rc\" ] && [ \"$(cat \"$haul_d/rc\")\" = 0 ]; } || "
         "{ [ ! -f \"$haul_d/rc\" ] && [ -f \"$haul_d/pgid\" ] && "
         "[ \"$(cat \"$haul_d/pgid\")\" != none ] && haul_alive \"$(cat \"$haul_d/pgid\")\"; }\n"
         "then\n"
         // Finished unobserved, or still running: replay only the recent output.
         "  haul_off=$(($(wc -c <\"$haul_d/out\" 2>/dev/null || echo 0)))\n"
         "  haul_off=$((haul_off > 65536 ? haul_off - 65536 : 0))\n"
         "else\n"
         "  haul_launch\n"
         "fi\n"
         "haul_i=0\n"
         "while [ ! -f \"$haul_d/pgid\" ]; do\n"
         "  haul_i=$((haul_i + 1))\n"
         "  if [ $haul_i -gt 100 ]; then\n"
         "    echo \"haul: the command did not start in $haul_d\" >&2; exit 125\n"
         "  fi\n"
         "  sleep 0.1 2>/dev/null || sleep 1\n"
         "done\n"
         "haul_g=$(cat \"$haul_d/pgid\")\n"
         "printf '" +
         std::string(kPgidMarker) +
         "%s\\n' \"$haul_g\" >&2\n"
         "while [ ! -f \"$haul_d/rc\" ]; do\n"
         "  haul_copy\n"
         "  if [ \"$haul_g\" != none ] && ! haul_alive \"$haul_g\" && [ ! -f \"$haul_d/rc\" ]\n"
         "  then\n"
         "    haul_copy; echo \"haul: the command was killed\" >&2; exit 137\n"
         "  fi\n"
         "  sleep 0.2 2>/dev/null || sleep 1\n"
         "done\n"
         "haul_copy\n"
         "exit \"$(cat \"$haul_d/rc\")\"\n";
}

}  // namespace

std::string single_quote(std::string_view value) {
  std::string quoted;
  quoted.reserve(value.size() + 2);
  quoted += '\'';
  for (char c : value) {
    if (c == '\'') {
      quoted += "'\\''";  // close, escaped quote, reopen
    } else {
      quoted += c;
    }
  }
  quoted += '\'';
  return quoted;
}

bool is_env_name(std::string_view name) {
  if (name.empty() || !is_name_start(name.front())) return false;
  for (char c : name) {
    if (!is_name_char(c)) return false;
  }
  return true;
}

Result<std::string> build_run_script(std::string_view command,
                                     const std::map<std::string, std::string>& env,
                                     std::string_view run_dir) {
  RunScriptOptions options;
  options.run_dir = std::string(run_dir);
  return build_run_script(command, env, options);
}

Result<std::string> build_run_script(std::string_view command,
                                     const std::map<std::string, std::string>& env,
                                     const RunScriptOptions& options) {
  const std::string_view run_dir = options.run_dir;
  if (command.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return fail(ErrorCode::kInvalidArgument, "remote command is empty");
  }
  if (command.find('\0') != std::string_view::npos) {
    return fail(ErrorCode::kInvalidArgument, "remote command contains a NUL byte");
  }
  std::string script;
  for (const auto& [name, value] : env) {
    if (!is_env_name(name)) {
      return fail(ErrorCode::kInvalidArgument,
                  "environment variable name '" + name + "' is not a valid shell name");
    }
    if (value.find('\0') != std::string::npos) {
      // The value itself is never echoed: it may be a token.
      return fail(ErrorCode::kInvalidArgument,
                  "environment variable " + name + " contains a NUL byte");
    }
    script += "export " + name + "=" + single_quote(value) + "\n";
  }
  const std::string quoted_command = single_quote(command);
  if (!run_dir.empty()) {
    if (!is_safe_relative_path(run_dir) || has_control_char(run_dir))
      return fail(ErrorCode::kInvalidArgument,
                  "run directory '" + std::string(run_dir) + "' is not a plain relative path");
    return script + durable_run(quoted_command, options);
  }
  // setsid run from a non-interactive shell's foreground is never a process
  // group leader, so it calls setsid(2) itself and execs sh: that sh's $$ is
  // the new session and process group id. Without setsid (BSD, macOS), sshd's
  // own per-session setsid makes this shell a group leader on Linux; the
  // /proc check refuses to announce a group we do not lead.
  script +=
      "if command -v setsid >/dev/null 2>&1; then\n"
      "  setsid sh -c 'printf \"" +
      std::string(kPgidMarker) +
      "%s\\n\" \"$$\" >&2; "
      "exec \"${SHELL:-/bin/sh}\" -c \"$1\"' haul-run " +
      quoted_command +
      " </dev/null\n"
      "else\n"
      "  haul_pgid=none\n"
      "  if read -r _ _ _ _ haul_g _ </proc/$$/stat 2>/dev/null && [ \"$haul_g\" = \"$$\" ]; then "
      "haul_pgid=$$; fi\n"
      "  printf '" +
      std::string(kPgidMarker) +
      "%s\\n' \"$haul_pgid\" >&2\n"
      "  \"${SHELL:-/bin/sh}\" -c " +
      quoted_command +
      " </dev/null\n"
      "fi\n";
  return script;
}

std::string build_kill_request(long pgid) {
  // `kill -s SIG -- -PGID` is the spelling dash, bash, zsh and busybox all
  // accept (dash rejects `kill -TERM -- -PGID`). The groups are listed
  // before the first signal: once script(1) dies, the terminal's processes
  // are re-parented and no longer found as descendants.
  // `sleep 0.2` falls back to 1 s where fractional sleeps are unsupported.
  const std::string body =
      "g=" + std::to_string(pgid) + "\n" + std::string(kAliveFunction) +
      std::string(kGroupsFunction) +
      "haul_all=$g\n"
      "if [ -r /proc/self/stat ]; then haul_all=$(haul_groups \"$g\"); fi\n"
      "kill -s 0 -- -$g 2>/dev/null || [ \"$haul_all\" != \"$g\" ] || exit 0\n"
      "haul_any() { for x in $1; do haul_alive \"$x\" && return 0; done; return 1; }\n"
      // The groups below first: a command that ends lets script(1) exit at
      // once, where a TERM to script makes it linger for 2 s.
      "haul_inner=\n"
      "for x in $haul_all; do [ \"$x\" = \"$g\" ] || haul_inner=\"$haul_inner $x\"; done\n"
      "for x in $haul_inner; do kill -s TERM -- -$x 2>/dev/null; done\n"
      "i=0\n"
      "while [ -n \"$haul_inner\" ] && [ $i -lt 5 ] && haul_any \"$haul_inner\"; do\n"
      "  sleep 0.2 2>/dev/null || sleep 1; i=$((i+1))\n"
      "done\n"
      "kill -s TERM -- -$g 2>/dev/null\n"
      "i=0\n"
      "while [ $i -lt 10 ] && haul_any \"$haul_all\"; do sleep 0.2 2>/dev/null || sleep 1; "
      "i=$((i+1)); "
      "done\n"
      "for x in $haul_all; do kill -s KILL -- -$x 2>/dev/null; done\n"
      // A busy machine may take a moment to reap them; callers expect them gone.
      "i=0\n"
      "while [ $i -lt 10 ] && haul_any \"$haul_all\"; do sleep 0.2 2>/dev/null || sleep 1; "
      "i=$((i+1)); "
      "done\n"
      "exit 0\n";
  // The login shell (which may be csh or fish) only has to run `exec sh -c '...'`.
  return "exec sh -c " + single_quote(body);
}

std::string build_output_removal(std::string_view run_dir, const std::vector<std::string>& paths) {
  // One line: the login shell may be csh, whose quotes cannot span lines.
  std::string body =
      "d=\"${HOME:-/tmp}\"/" + single_quote(run_dir) +
      "; [ -f \"$d/before\" ] || exit 0; "
      "[ \"$(cat \"$d/rc\" 2>/dev/null)\" != 0 ] || exit 0; "
      "haul_rm() { [ -f \"$1\" ] || return 0; "
      "if grep -qxF -e \"-$1\" \"$d/before\"; then :; "
      "elif [ -z \"$(find \"$1\" -prune -newer \"$d/started\" 2>/dev/null)\" ]; then return 0; fi; "
      "rm -f -- \"$1\"; }";
  for (const std::string& path : paths) {
    if (usable_path(path)) body += "; haul_rm " + shell_path(path);
  }
  return "sh -c " + single_quote(body + "; exit 0");
}

bool PgidMarkerFilter::take_marker(std::string_view line, std::string& out) {
  // Startup noise without a trailing newline may precede the marker on its line.
  const auto at = line.rfind(kPgidMarker);
  if (at == std::string_view::npos) return false;
  const std::string_view value = line.substr(at + kPgidMarker.size());
  if (value == "none") {
    pgid_.reset();
  } else if (all_digits(value)) {
    pgid_ = std::stol(std::string(value));
  } else {
    return false;
  }
  seen_ = true;
  if (at > 0) {
    out.append(line.substr(0, at));
    out += '\n';
  }
  return true;
}

std::string PgidMarkerFilter::feed(std::string_view chunk) {
  if (seen_) return std::string(chunk);
  held_.append(chunk);
  std::string out;
  std::size_t start = 0;
  for (auto newline = held_.find('\n'); newline != std::string::npos;
       newline = held_.find('\n', start)) {
    const std::string_view line(held_.data() + start, newline - start);
    const std::size_t next = newline + 1;
    if (take_marker(line, out)) {
      out.append(held_, next, std::string::npos);
      held_.clear();
      return out;
    }
    out.append(held_, start, next - start);
    start = next;
  }
  held_.erase(0, start);
  if (held_.size() > kMaxHeld) {
    out += held_;
    held_.clear();
  }
  return out;
}

std::string PgidMarkerFilter::finish() {
  std::string out;
  if (!seen_ && take_marker(held_, out)) {
    held_.clear();
    return out;
  }
  out.swap(held_);
  return out;
}

void TailBuffer::append(std::string_view data) {
  data_.append(data);
  // Trim lazily: only once twice the capacity has built up.
  if (data_.size() > 2 * capacity_) data_.erase(0, data_.size() - capacity_);
}

std::string TailBuffer::str() const {
  std::size_t start = data_.size() > capacity_ ? data_.size() - capacity_ : 0;
  // Skip UTF-8 continuation bytes (10xxxxxx) so the tail starts on a character.
  while (start < data_.size() && start > 0 &&
         (static_cast<unsigned char>(data_[start]) & 0xC0) == 0x80) {
    ++start;
  }
  return data_.substr(start);
}

}  // namespace haul::remote
