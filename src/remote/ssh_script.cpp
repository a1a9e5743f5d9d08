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

// The durable wrapper (see build_run_script): start the command detached
// with its output in a file, or find it still running (or finished with
// status 0) from an earlier channel; then follow the file on stderr until the
// status file appears, and exit with that status.
std::string durable_run(const std::string& quoted_command, std::string_view run_dir) {
  // Inside the detached sh: $1 the command, $2 the run directory. Its own $$
  // is the new session and process group (see the attached wrapper).
  const std::string detached =
      "echo \"$$\" >\"$2/pgid.tmp\" && mv \"$2/pgid.tmp\" \"$2/pgid\"; "
      "\"${SHELL:-/bin/sh}\" -c \"$1\" </dev/null >\"$2/out\" 2>&1; "
      "echo \"$?\" >\"$2/rc.tmp\"; mv \"$2/rc.tmp\" \"$2/rc\"";
  return "haul_d=\"${HOME:-/tmp}\"/" + single_quote(run_dir) + "\n" +
         std::string(kAliveFunction) +
         "haul_launch() {\n"
         "  rm -rf \"$haul_d\" && mkdir -p \"$haul_d\" ||\n"
         "    { echo \"haul: cannot create $haul_d\" >&2; exit 125; }\n"
         "  if command -v setsid >/dev/null 2>&1; then\n"
         "    setsid sh -c " + single_quote(detached) + " haul-run " + quoted_command +
         " \"$haul_d\" </dev/null >/dev/null 2>&1 &\n"
         "  else\n"
         "    echo none >\"$haul_d/pgid\"\n"
         "    sh -c " + single_quote(detached.substr(detached.find("; ") + 2)) + " haul-run " +
         quoted_command + " \"$haul_d\" </dev/null >/dev/null 2>&1 &\n"
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
         "printf '" + std::string(kPgidMarker) + "%s\\n' \"$haul_g\" >&2\n"
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
      return fail(ErrorCode::kInvalidArgument, "run directory '" + std::string(run_dir) +
                                                   "' is not a plain relative path");
    return script + durable_run(quoted_command, run_dir);
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
  // accept (dash rejects `kill -TERM -- -PGID`).
  // `sleep 0.2` falls back to 1 s where fractional sleeps are unsupported.
  const std::string body =
      "g=" + std::to_string(pgid) + "\n" + std::string(kAliveFunction) +
      "kill -s TERM -- -$g 2>/dev/null || exit 0\n"
      "i=0\n"
      "while [ $i -lt 10 ] && haul_alive \"$g\"; do sleep 0.2 2>/dev/null || sleep 1; i=$((i+1)); "
      "done\n"
      "kill -s KILL -- -$g 2>/dev/null\n"
      "exit 0\n";
  // The login shell (which may be csh or fish) only has to run `exec sh -c '...'`.
  return "exec sh -c " + single_quote(body);
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
