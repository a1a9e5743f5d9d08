// SshSession::run: one command on its own channel, output streamed, and the
// remote process group killed on cancel or timeout.
//
// The loop never blocks longer than kPollMs: it polls stdout with a short
// timeout (which also processes incoming packets, buffering stderr) and then
// drains both streams without blocking, so a cancel flag set by another
// thread is seen within ~100 ms.
#include <libssh/libssh.h>

#include <chrono>

#include "remote/ssh_handle.hpp"
#include "remote/ssh_script.hpp"
#include "remote/ssh_session.hpp"

namespace haul::remote {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kPollMs = 100;
constexpr std::size_t kTailBytes = 4096;
constexpr std::size_t kReadBytes = 16384;
// After cancel: how long to wait for the wrapper to announce the group
// (the command may have been cancelled while still starting).
constexpr auto kMarkerWait = std::chrono::seconds(3);
// The kill script takes ~2 s (TERM grace) plus a round trip.
constexpr auto kKillWait = std::chrono::seconds(15);
// After the kill: how long to collect the last output and the exit status.
constexpr auto kDrainWait = std::chrono::seconds(5);

bool finished(ssh_channel channel) {
  return ssh_channel_is_eof(channel) != 0 || ssh_channel_is_closed(channel) != 0;
}

// Moves buffered channel data to `sink` without waiting: at most one read per
// stream, so a chatty stdout cannot starve stderr. Returns whether anything
// arrived, or false with ok=false when the session failed.
template <class Sink>
bool pump(ssh_channel channel, Sink&& sink, bool& ok) {
  char buffer[kReadBytes];
  bool any = false;
  for (int is_stderr = 0; is_stderr <= 1; ++is_stderr) {
    const int n = ssh_channel_read_nonblocking(channel, buffer, sizeof buffer, is_stderr);
    if (n == SSH_ERROR) {
      ok = false;
      return any;
    }
    if (n > 0) {
      any = true;
      sink(std::string_view(buffer, static_cast<std::size_t>(n)), is_stderr != 0);
    }
  }
  return any;
}

bool write_all(ssh_channel channel, std::string_view data) {
  while (!data.empty()) {
    const int n = ssh_channel_write(channel, data.data(), static_cast<uint32_t>(data.size()));
    if (n < 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

Result<CommandResult> SshSession::run(const CommandSpec& spec, const OutputFn& on_output,
                                      const std::atomic<bool>& cancel) {
  if (cancel.load()) {
    CommandResult result;
    result.cancelled = true;
    return result;
  }
  RunScriptOptions how;
  how.run_dir = spec.run_dir;
  how.terminal = spec.terminal;
  how.watch = spec.watch;
  auto script = build_run_script(spec.command, spec.env, how);
  if (!script) return fail(script.error());
  if (!connected()) {
    return fail(ErrorCode::kUnavailable,
                "ssh to " + target_ + ": the session is closed; connect again");
  }
  auto result = execute(spec, *script, on_output, cancel);
  // A failure mid-protocol leaves the session in an unknown state (or on a
  // half-open socket that timed out): drop it, so alive() says so. Only
  // here, once execute's channels are freed: libssh frees a session's
  // channels on disconnect, and ours would be freed twice.
  if (!result && result.error().code == ErrorCode::kUnavailable) drop();
  return result;
}

Result<CommandResult> SshSession::execute(const CommandSpec& spec, const std::string& script,
                                          const OutputFn& on_output,
                                          const std::atomic<bool>& cancel) {
  CommandResult result;
  ssh_session s = handle_->session;
  const std::string silent =
      "no answer within " + std::to_string(options_.connect_timeout.count()) + " s";
  const auto lost = [&](const std::string& when) {
    return fail(ErrorCode::kUnavailable,
                "ssh to " + target_ + ": connection lost " + when + ": " + last_error(s, silent));
  };

  ChannelPtr owner(ssh_channel_new(s));
  if (!owner) return fail(ErrorCode::kInternal, "cannot allocate an ssh channel");
  ssh_channel channel = owner.get();
  if (ssh_channel_open_session(channel) != SSH_OK) return lost("while opening a channel");
  if (ssh_channel_request_exec(channel, std::string(kRunExecRequest).c_str()) != SSH_OK) {
    return lost("while starting the remote shell");
  }
  // The script (with any secrets) goes through stdin only; see the header.
  if (!write_all(channel, script) || ssh_channel_send_eof(channel) != SSH_OK) {
    return lost("while sending the command");
  }
  mark_activity();

  PgidMarkerFilter marker;
  TailBuffer tail(kTailBytes);
  const auto deliver = [&](std::string_view chunk, bool is_stderr) {
    if (!is_stderr) {
      on_output(chunk, false);
      return;
    }
    const std::string own = marker.feed(chunk);
    if (own.empty()) return;
    tail.append(own);
    on_output(own, true);
  };
  const auto flush_marker = [&]() {
    const std::string rest = marker.finish();
    if (rest.empty()) return;
    tail.append(rest);
    on_output(rest, true);
  };
  // Pumps and waits up to kPollMs on `stream`; false when the session failed.
  const auto step = [&](int stream) {
    bool ok = true;
    if (pump(channel, deliver, ok)) {
      mark_activity();
      return ok;
    }
    if (!ok || finished(channel)) return ok;
    if (ssh_channel_poll_timeout(channel, kPollMs, stream) == SSH_ERROR) return false;
    return true;
  };

  const auto deadline = Clock::now() + spec.timeout;
  while (!finished(channel)) {
    if (spec.detach != nullptr && spec.detach->load() && !spec.run_dir.empty()) {
      result.cancelled = result.detached = true;  // the command runs on; the channel closes
      break;
    }
    if (cancel.load()) {
      result.cancelled = true;
      break;
    }
    if (Clock::now() >= deadline) {
      result.timed_out = true;
      break;
    }
    if (!step(0) || !connected()) {
      return lost("while a command was running (it may still run on the instance)");
    }
    // Silence is normal (a download that prints nothing); keep NATs and the
    // server's ClientAlive checks happy, and notice a peer that vanished.
    if (Clock::now() - last_activity_ >= options_.keepalive && !send_keepalive()) {
      return lost("while a command was running (it may still run on the instance)");
    }
  }

  if ((result.cancelled && !result.detached) || result.timed_out) {
    const auto marker_deadline = Clock::now() + kMarkerWait;
    while (!marker.seen() && !finished(channel) && Clock::now() < marker_deadline) {
      if (!step(1)) return lost("while stopping a command");
    }
    if (marker.pgid()) {
      if (auto killed = kill_process_group(*marker.pgid()); !killed) return fail(killed.error());
    }
    // Without a group id (no setsid and no /proc on the remote side) all we
    // can do is close the channel, which the owner does on return.
    const auto drain_deadline = Clock::now() + kDrainWait;
    while (!finished(channel) && Clock::now() < drain_deadline) {
      if (!step(0)) break;
    }
  }
  bool ok = true;
  while (pump(channel, deliver, ok)) {
  }
  flush_marker();
  result.stderr_tail = tail.str();
  if (finished(channel)) {
    // Blocks until exit-status arrives or the channel closes (up to the
    // session timeout); -1 when the shell died by a signal or sent nothing.
    result.exit_status = ssh_channel_get_exit_status(channel);
  }
  // A channel "finished" because the whole connection went away is not a
  // command that finished.
  if (result.exit_status == -1 && !connected()) {
    return lost("while a command was running (it may still run on the instance)");
  }
  return result;
}

Result<void> SshSession::kill_process_group(long pgid) {
  ssh_session s = handle_->session;
  const std::string silent =
      "no answer within " + std::to_string(options_.connect_timeout.count()) + " s";
  const auto lost = [&]() {
    return fail(ErrorCode::kUnavailable, "ssh to " + target_ +
                                             ": cannot stop remote process group " +
                                             std::to_string(pgid) + ": " + last_error(s, silent));
  };
  if (pgid <= 1) return {};  // never signal init or "every process"
  ChannelPtr owner(ssh_channel_new(s));
  if (!owner) return fail(ErrorCode::kInternal, "cannot allocate an ssh channel");
  ssh_channel channel = owner.get();
  if (ssh_channel_open_session(channel) != SSH_OK) return lost();
  if (ssh_channel_request_exec(channel, build_kill_request(pgid).c_str()) != SSH_OK) return lost();
  ssh_channel_send_eof(channel);
  const auto deadline = Clock::now() + kKillWait;
  char discard[1024];
  while (!finished(channel) && Clock::now() < deadline) {
    if (ssh_channel_read_timeout(channel, discard, sizeof discard, 0, kPollMs) == SSH_ERROR) {
      return lost();
    }
    ssh_channel_read_nonblocking(channel, discard, sizeof discard, 1);
  }
  mark_activity();
  return {};
}

}  // namespace haul::remote
