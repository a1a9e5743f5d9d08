// SshSession against a real OpenSSH server (tests/support/test_sshd.hpp):
// output streaming, env passing, remote process-group kills, host-key policy,
// authentication errors, session reuse and reconnects.
#include "remote/ssh_session.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/test_sshd.hpp"

extern char** environ;

namespace haul::remote {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

struct Captured {
  std::string out;
  std::string err;
  CommandResult result;
};

class SshSessionTest : public ::testing::Test {
 protected:
  SshEndpoint endpoint() const {
    return SshEndpoint{.host = sshd_.host(),
                       .port = sshd_.port(),
                       .user = sshd_.user(),
                       .identity_files = {sshd_.client_key().string()},
                       .options = {}};
  }
  // Hermetic: no agent, no ~/.ssh/config, the server's own known_hosts file.
  SessionOptions options() const {
    SessionOptions o;
    o.known_hosts = sshd_.known_hosts();
    o.use_agent = false;
    o.read_ssh_config = false;
    o.connect_timeout = 5s;
    return o;
  }
  std::unique_ptr<SshSession> connect() {
    auto session = SshSession::connect(endpoint(), options());
    EXPECT_TRUE(session) << (session ? "" : session.error().message);
    return session ? std::move(*session) : nullptr;
  }
  static Captured run(SshSession& session, const CommandSpec& spec,
                      const std::atomic<bool>& cancel = std::atomic<bool>(false)) {
    Captured captured;
    auto result = session.run(
        spec,
        [&](std::string_view chunk, bool is_stderr) {
          (is_stderr ? captured.err : captured.out) += chunk;
        },
        cancel);
    EXPECT_TRUE(result) << (result ? "" : result.error().message);
    if (result) captured.result = *result;
    return captured;
  }
  static Captured run(SshSession& session, const std::string& command) {
    return run(session, CommandSpec{.command = command, .env = {}, .timeout = 60s});
  }
  // Processes matching `pattern` (an ERE; write "sleep [3]001" so the pgrep
  // command line itself does not match), asked through a fresh command.
  static std::string remote_pgrep(SshSession& session, const std::string& pattern) {
    return run(session, "pgrep -f '" + pattern + "' || echo none").out;
  }

  haul::testing::TestSshd sshd_;
};

TEST_F(SshSessionTest, StreamsStdoutAndStderrAndReportsExitStatus) {
  auto session = connect();
  ASSERT_TRUE(session);
  EXPECT_EQ(session->target(), sshd_.user() + "@127.0.0.1:" + std::to_string(sshd_.port()));
  std::vector<std::pair<std::string, bool>> chunks;
  std::atomic<bool> cancel{false};
  auto result = session->run(
      {.command = "echo hi; echo err >&2; exit 3", .env = {}, .timeout = 60s},
      [&](std::string_view chunk, bool is_stderr) {
        chunks.emplace_back(std::string(chunk), is_stderr);
      },
      cancel);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->exit_status, 3);
  EXPECT_FALSE(result->timed_out);
  EXPECT_FALSE(result->cancelled);
  EXPECT_EQ(result->stderr_tail, "err\n");  // the pgid marker is not part of it
  std::string out, err;
  for (const auto& [chunk, is_stderr] : chunks) (is_stderr ? err : out) += chunk;
  EXPECT_EQ(out, "hi\n");
  EXPECT_EQ(err, "err\n");
}

TEST_F(SshSessionTest, StderrTailKeepsOnlyTheLastFourKiB) {
  auto session = connect();
  ASSERT_TRUE(session);
  const auto captured = run(*session,
                            "i=0; while [ $i -lt 300 ]; do echo \"line $i of stderr output "
                            "padding\" >&2; i=$((i+1)); done");
  EXPECT_EQ(captured.result.exit_status, 0);
  EXPECT_GT(captured.err.size(), 8000u);
  EXPECT_LE(captured.result.stderr_tail.size(), 4096u);
  EXPECT_GT(captured.result.stderr_tail.size(), 4000u);
  EXPECT_NE(captured.result.stderr_tail.find("line 299 of stderr output padding\n"),
            std::string::npos);
  EXPECT_EQ(captured.result.stderr_tail.find("line 0 of"), std::string::npos);
}

TEST_F(SshSessionTest, EnvValuesArriveIntactAndStayOutOfProcessListsAndLogs) {
  auto session = connect();
  ASSERT_TRUE(session);
  const fs::path pwned = sshd_.dir() / "pwned";
  const std::string secret = "s3cr3t-it's \"q\" $(touch " + pwned.string() + ") `touch " +
                             pwned.string() + "` \\n\nsecond line; $HOME";
  const std::string token = "hf_TOKENabcdef0123456789";
  CommandSpec spec{
      .command =
          "printf '<%s>' \"$HAUL_SECRET\"; printf '<%s>' \"$HF_TOKEN\"; printf '<%s>' "
          "\"$UI_HOME\"; "
          "echo; echo '==ps=='; ps -eww -o args",
      .env = {{"HAUL_SECRET", secret}, {"HF_TOKEN", token}, {"UI_HOME", "/workspace/ComfyUI"}},
      .timeout = 60s};
  const auto captured = run(*session, spec);
  EXPECT_EQ(captured.result.exit_status, 0) << captured.err;
  const auto split = captured.out.find("==ps==");
  ASSERT_NE(split, std::string::npos) << captured.out;
  EXPECT_EQ(captured.out.substr(0, split), "<" + secret + "><" + token + "></workspace/ComfyUI>\n");
  const std::string ps = captured.out.substr(split);
  // The process list was taken while the command (and its wrappers) ran.
  EXPECT_NE(ps.find("ps -eww -o args"), std::string::npos) << ps;
  EXPECT_EQ(ps.find("s3cr3t"), std::string::npos) << ps;
  EXPECT_EQ(ps.find(token), std::string::npos) << ps;
  EXPECT_EQ(sshd_.log().find("s3cr3t"), std::string::npos);
  EXPECT_EQ(sshd_.log().find(token), std::string::npos);
  EXPECT_FALSE(fs::exists(pwned));
}

TEST_F(SshSessionTest, InvalidEnvNameIsRejectedBeforeAnythingRuns) {
  auto session = connect();
  ASSERT_TRUE(session);
  std::atomic<bool> cancel{false};
  auto result = session->run(
      {.command = "touch " + (sshd_.dir() / "ran").string(),
       .env = {{"NOT-A-NAME", "x"}},
       .timeout = 60s},
      [](std::string_view, bool) {}, cancel);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(sshd_.dir() / "ran"));
}

TEST_F(SshSessionTest, TimeoutKillsTheRemoteProcessGroup) {
  auto session = connect();
  ASSERT_TRUE(session);
  ASSERT_EQ(remote_pgrep(*session, "sleep [3]00[12]"), "none\n");
  const auto start = Clock::now();
  // A background grandchild and a foreground child: both must die.
  const auto captured =
      run(*session,
          {.command = "sh -c 'sleep 3001' & sleep 3002; echo survived", .env = {}, .timeout = 1s});
  const auto elapsed = Clock::now() - start;
  EXPECT_TRUE(captured.result.timed_out);
  EXPECT_FALSE(captured.result.cancelled);
  EXPECT_GE(elapsed, 1s);
  EXPECT_LT(elapsed, 8s);
  EXPECT_EQ(captured.out.find("survived"), std::string::npos);
  EXPECT_EQ(remote_pgrep(*session, "sleep [3]00[12]"), "none\n");
}

TEST_F(SshSessionTest, CancelKillsTheRemoteProcessGroupPromptly) {
  auto session = connect();
  ASSERT_TRUE(session);
  std::atomic<bool> cancel{false};
  std::atomic<bool> started{false};
  Clock::time_point cancelled_at;
  std::thread canceller([&] {
    // Cancel once both sleeps run (the sshd is local: its processes are ours
    // to see), so the kill has a child and a grandchild to reach.
    const auto deadline = Clock::now() + 30s;
    const auto sleeping = [] {
      return std::system(
                 "pgrep -f '^sleep 3003$' >/dev/null && pgrep -f '^sleep 3004$' >/dev/null") == 0;
    };
    while (Clock::now() < deadline && !(started.load() && sleeping()))
      std::this_thread::sleep_for(10ms);
    cancelled_at = Clock::now();
    cancel = true;
  });
  std::string out;
  auto result = session->run(
      {.command = "echo started; sh -c 'sleep 3003' & sleep 3004; echo survived",
       .env = {},
       .timeout = 60s},
      [&](std::string_view chunk, bool is_stderr) {
        if (!is_stderr) out += chunk;
        if (out.find("started") != std::string::npos) started = true;
      },
      cancel);
  const auto returned_at = Clock::now();
  canceller.join();
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_TRUE(result->cancelled);
  EXPECT_FALSE(result->timed_out);
  EXPECT_EQ(out, "started\n");
  // Noticed within a poll interval, then TERM worked without the 2 s grace.
  EXPECT_LT(returned_at - cancelled_at, 2s);
  EXPECT_EQ(remote_pgrep(*session, "sleep [3]00[34]"), "none\n");
  // The session is still usable afterwards.
  EXPECT_EQ(run(*session, "echo again").out, "again\n");
}

TEST_F(SshSessionTest, CancelEscalatesToSigkillWhenTermIsIgnored) {
  auto session = connect();
  ASSERT_TRUE(session);
  std::atomic<bool> cancel{false};
  const auto start = Clock::now();
  auto result = session->run(
      {.command = "trap '' TERM; echo ready; sleep 3005", .env = {}, .timeout = 60s},
      [&](std::string_view chunk, bool) {
        if (chunk.find("ready") != std::string_view::npos) cancel = true;
      },
      cancel);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_TRUE(result->cancelled);
  EXPECT_GE(Clock::now() - start, 2s);  // the TERM grace period passed first
  EXPECT_EQ(remote_pgrep(*session, "sleep [3]005"), "none\n");
}

TEST_F(SshSessionTest, AlreadyCancelledRunsNothing) {
  auto session = connect();
  ASSERT_TRUE(session);
  std::atomic<bool> cancel{true};
  const fs::path marker = sshd_.dir() / "ran";
  auto result = session->run(
      {.command = "touch " + marker.string(), .env = {}, .timeout = 60s},
      [](std::string_view, bool) {}, cancel);
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->cancelled);
  EXPECT_EQ(result->exit_status, -1);
  // Nothing shows a command that never started; a short window would see its touch.
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(fs::exists(marker));
}

TEST_F(SshSessionTest, StrictPolicyRefusesAnUnknownHost) {
  SessionOptions strict = options();
  strict.policy = HostKeyPolicy::kStrict;
  auto session = SshSession::connect(endpoint(), strict);
  ASSERT_FALSE(session);
  EXPECT_EQ(session.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(session.error().message.find("is not in " + sshd_.known_hosts().string()),
            std::string::npos)
      << session.error().message;
  EXPECT_NE(session.error().message.find(sshd_.host_key_fingerprint()), std::string::npos)
      << session.error().message;
  EXPECT_EQ(read_text(sshd_.known_hosts()), "");  // nothing was written
}

TEST_F(SshSessionTest, AcceptNewRecordsTheKeyAndRefusesAChangedOne) {
  ASSERT_TRUE(connect());
  const std::string known = read_text(sshd_.known_hosts());
  EXPECT_EQ(known.rfind("[127.0.0.1]:" + std::to_string(sshd_.port()) + " ssh-ed25519 ", 0), 0u)
      << known;
  EXPECT_EQ(count(known, "\n"), 1u);

  SessionOptions strict = options();
  strict.policy = HostKeyPolicy::kStrict;
  EXPECT_TRUE(SshSession::connect(endpoint(), strict));  // now known: strict accepts it

  const std::string old_fingerprint = sshd_.host_key_fingerprint();
  sshd_.stop();
  sshd_.regenerate_host_key();
  sshd_.start();
  ASSERT_NE(sshd_.host_key_fingerprint(), old_fingerprint);
  auto changed = SshSession::connect(endpoint(), options());  // accept-new does not cover changes
  ASSERT_FALSE(changed);
  const std::string& message = changed.error().message;
  EXPECT_EQ(changed.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(message.find("host key changed"), std::string::npos) << message;
  EXPECT_NE(message.find(sshd_.host_key_fingerprint()), std::string::npos) << message;
  EXPECT_NE(message.find("ssh-keygen -f '" + sshd_.known_hosts().string() +
                         "' -R '[127.0.0.1]:" + std::to_string(sshd_.port()) + "'"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_EQ(read_text(sshd_.known_hosts()), known);  // the old entry was not replaced
}

TEST_F(SshSessionTest, WrongKeyFailsAuthenticationNamingWhatWasTried) {
  SshEndpoint wrong = endpoint();
  const fs::path stranger = sshd_.generate_unauthorised_key("stranger");
  const fs::path missing = sshd_.dir() / "no-such-key";
  wrong.identity_files = {missing.string(), stranger.string()};
  auto session = SshSession::connect(wrong, options());
  ASSERT_FALSE(session);
  const std::string& message = session.error().message;
  EXPECT_EQ(session.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(message.find("authentication failed"), std::string::npos) << message;
  EXPECT_NE(message.find(missing.string() + " (no such file)"), std::string::npos) << message;
  EXPECT_NE(message.find(stranger.string() + " (refused)"), std::string::npos) << message;
  EXPECT_NE(message.find("ssh-agent (disabled)"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST_F(SshSessionTest, StoppedServerMeansConnectionRefused) {
  sshd_.stop();
  auto session = SshSession::connect(endpoint(), options());
  ASSERT_FALSE(session);
  EXPECT_EQ(session.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(session.error().message, "ssh to " + sshd_.user() + "@127.0.0.1:" +
                                         std::to_string(sshd_.port()) + ": connection refused");
}

TEST_F(SshSessionTest, SilentServerTimesOut) {
  // Accepts TCP (the kernel completes the handshake) but never says a word.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  SshEndpoint silent = endpoint();
  silent.port = ntohs(addr.sin_port);
  SessionOptions quick = options();
  quick.connect_timeout = 1s;
  const auto start = Clock::now();
  auto session = SshSession::connect(silent, quick);
  const auto elapsed = Clock::now() - start;
  ::close(fd);
  ASSERT_FALSE(session);
  EXPECT_EQ(session.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(session.error().message.find("timed out after 1 s"), std::string::npos)
      << session.error().message;
  EXPECT_LT(elapsed, 5s);
}

TEST_F(SshSessionTest, ReusesOneConnectionForManyCommands) {
  auto session = connect();
  ASSERT_TRUE(session);
  for (int i = 0; i < 20; ++i) {
    const auto captured =
        run(*session, "echo n=" + std::to_string(i) + "; exit " + std::to_string(i % 5));
    EXPECT_EQ(captured.out, "n=" + std::to_string(i) + "\n");
    EXPECT_EQ(captured.result.exit_status, i % 5);
  }
  EXPECT_EQ(count(sshd_.log(), "Accepted publickey"), 1u) << sshd_.log();
}

TEST_F(SshSessionTest, JumpHostsAreCrossedWithTheLocalSshLikeProxyJump) {
  // Both hops are the test server itself: each login shows in its log.
  const std::string port = std::to_string(sshd_.port());
  SshEndpoint through = endpoint();
  through.jump_hosts = {sshd_.user() + "@localhost:" + port,
                        "ssh://" + sshd_.user() + "@" + sshd_.host() + ":" + port};
  auto session = SshSession::connect(through, options());
  ASSERT_TRUE(session) << session.error().message;
  const auto captured = run(**session, "echo through");
  EXPECT_EQ(captured.out, "through\n");
  EXPECT_EQ(count(sshd_.log(), "Accepted publickey"), 3u) << "two hops and the target";

  through.options = {{"ProxyCommand", "nc %h %p"}};
  auto both = SshSession::connect(through, options());
  ASSERT_FALSE(both);
  EXPECT_EQ(both.error().message,
            "use either -J or -o ProxyCommand, not both (ssh ignores one of them)");
}

TEST_F(SshSessionTest, AnUnreachableJumpHostFailsWithAClearError) {
  SshEndpoint through = endpoint();
  through.jump_hosts = {sshd_.user() + "@127.0.0.1:1"};
  SessionOptions quick = options();
  quick.connect_timeout = 3s;
  auto session = SshSession::connect(through, quick);
  ASSERT_FALSE(session);
  EXPECT_NE(session.error().message.find("through jump hosts " + sshd_.user() + "@127.0.0.1:1"),
            std::string::npos)
      << session.error().message;
}

TEST_F(SshSessionTest, DetectsARestartedServerAndReconnects) {
  auto session = connect();
  ASSERT_TRUE(session);
  EXPECT_TRUE(session->alive());
  session->keepalive();
  EXPECT_EQ(run(*session, "echo before").out, "before\n");

  sshd_.stop();
  sshd_.start();
  EXPECT_FALSE(session->alive());
  std::atomic<bool> cancel{false};
  auto dead = session->run(
      {.command = "echo x", .env = {}, .timeout = 60s}, [](std::string_view, bool) {}, cancel);
  ASSERT_FALSE(dead);
  EXPECT_EQ(dead.error().code, ErrorCode::kUnavailable);

  auto again = connect();
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->alive());
  EXPECT_EQ(run(*again, "echo after").out, "after\n");
}

TEST_F(SshSessionTest, ServerDyingMidCommandIsAnErrorNotAResult) {
  auto session = connect();
  ASSERT_TRUE(session);
  std::atomic<bool> cancel{false};
  std::atomic<bool> started{false};
  std::thread killer([&] {
    while (!started.load()) std::this_thread::sleep_for(10ms);
    sshd_.stop();
  });
  const auto start = Clock::now();
  auto result = session->run(
      {.command = "echo go; sleep 3031", .env = {}, .timeout = 60s},
      [&](std::string_view chunk, bool) {
        if (chunk.find("go") != std::string_view::npos) started = true;
      },
      cancel);
  killer.join();
  ASSERT_FALSE(result) << "exit " << result->exit_status;
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(result.error().message.find("connection lost"), std::string::npos)
      << result.error().message;
  EXPECT_LT(Clock::now() - start, 10s);
  EXPECT_FALSE(session->alive());
}

TEST_F(SshSessionTest, AlivenessNoticesAPeerThatStoppedAnswering) {
  SessionOptions quick = options();
  quick.connect_timeout = 2s;
  auto session = SshSession::connect(endpoint(), quick);
  ASSERT_TRUE(session) << session.error().message;
  sshd_.freeze_sessions();  // TCP stays up, nothing answers
  const auto start = Clock::now();
  EXPECT_FALSE((*session)->alive());
  EXPECT_LT(Clock::now() - start, 4s);
  EXPECT_FALSE((*session)->alive());  // and it stays dead, without waiting again
  EXPECT_LT(Clock::now() - start, 4s);
  sshd_.thaw_sessions();
  std::atomic<bool> cancel{false};
  auto result = (*session)->run(
      {.command = "echo x", .env = {}, .timeout = 60s}, [](std::string_view, bool) {}, cancel);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
}

TEST_F(SshSessionTest, CommandWhosePeerGoesSilentFailsAfterTheKeepaliveTimeout) {
  SessionOptions quick = options();
  quick.connect_timeout = 2s;
  quick.keepalive = 1s;
  auto session = SshSession::connect(endpoint(), quick);
  ASSERT_TRUE(session) << session.error().message;
  std::atomic<bool> cancel{false};
  const auto start = Clock::now();
  auto result = (*session)->run(
      {.command = "echo go; sleep 3041", .env = {}, .timeout = 60s},
      [&](std::string_view chunk, bool) {
        if (chunk.find("go") != std::string_view::npos) sshd_.freeze_sessions();
      },
      cancel);
  const auto elapsed = Clock::now() - start;
  sshd_.thaw_sessions();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(result.error().message.find("connection lost"), std::string::npos)
      << result.error().message;
  EXPECT_LT(elapsed, 8s);
  EXPECT_FALSE((*session)->alive());
}

TEST_F(SshSessionTest, KeepalivesDuringASilentCommandDoNotDisturbIt) {
  SessionOptions frequent = options();
  frequent.keepalive = 1s;
  auto session = SshSession::connect(endpoint(), frequent);
  ASSERT_TRUE(session) << session.error().message;
  const auto captured = run(**session, "sleep 3; echo done");
  EXPECT_EQ(captured.out, "done\n");
  EXPECT_EQ(captured.result.exit_status, 0);
}

TEST_F(SshSessionTest, SshDashOOptionsAreAppliedOrReportedAsIgnored) {
  SshEndpoint with_options = endpoint();
  const fs::path other_known = sshd_.dir() / "other_known_hosts";
  with_options.options = {{"StrictHostKeyChecking", "yes"}};
  auto refused = SshSession::connect(with_options, options());
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("strict host key checking"), std::string::npos);

  with_options.options = {
      {"UserKnownHostsFile", other_known.string()}, {"LogLevel", "ERROR"}, {"ConnectTimeout", "7"}};
  auto session = SshSession::connect(with_options, options());
  ASSERT_TRUE(session) << session.error().message;
  EXPECT_EQ(read_text(other_known).rfind("[127.0.0.1]:", 0), 0u);
  EXPECT_EQ(read_text(sshd_.known_hosts()), "");
  EXPECT_EQ((*session)->ignored_options(), std::vector<std::string>{"LogLevel=ERROR"});

  with_options.options = {{"Port", "notaport"}};
  auto bad = SshSession::connect(with_options, options());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(SshSessionTest, ReadsHostAliasesAndKeysFromTheSshConfig) {
  const fs::path ssh_dir = sshd_.dir() / "dot-ssh";
  fs::create_directories(ssh_dir);
  std::ofstream(ssh_dir / "config") << "Host gpu-box\n"
                                    << "  HostName 127.0.0.1\n"
                                    << "  Port " << sshd_.port() << "\n"
                                    << "  User " << sshd_.user() << "\n"
                                    << "  IdentityFile " << sshd_.client_key().string() << "\n"
                                    << "Host wrong-port\n"
                                    << "  HostName 127.0.0.1\n"
                                    << "  Port 1\n";
  SessionOptions with_config = options();
  with_config.read_ssh_config = true;
  with_config.ssh_dir = ssh_dir;
  auto session = SshSession::connect(
      {.host = "gpu-box", .port = 22, .user = "", .identity_files = {}, .options = {}},
      with_config);
  ASSERT_TRUE(session) << session.error().message;
  EXPECT_EQ((*session)->target(), sshd_.user() + "@127.0.0.1:" + std::to_string(sshd_.port()));
  EXPECT_EQ(run(**session, "echo aliased").out, "aliased\n");

  // An explicit port wins over the config's.
  auto explicit_port = SshSession::connect({.host = "wrong-port",
                                            .port = sshd_.port(),
                                            .user = sshd_.user(),
                                            .identity_files = {sshd_.client_key().string()},
                                            .options = {}},
                                           with_config);
  EXPECT_TRUE(explicit_port) << explicit_port.error().message;

  // Without reading the config the alias means nothing.
  with_config.read_ssh_config = false;
  with_config.connect_timeout = 2s;
  EXPECT_FALSE(SshSession::connect(
      {.host = "gpu-box", .port = 22, .user = "", .identity_files = {}, .options = {}},
      with_config));
}

TEST_F(SshSessionTest, UnresolvableHostIsPermanentAndNamed) {
  // Where this machine's resolver cannot answer at all (EAI_AGAIN), the
  // failure is transient by design (ssh_errors_test covers it).
  addrinfo* found = nullptr;
  const int resolved = ::getaddrinfo("no-such-host.invalid", "22", nullptr, &found);
  if (found != nullptr) ::freeaddrinfo(found);
  if (resolved == EAI_AGAIN) GTEST_SKIP() << "the resolver is unreachable here";
  SshEndpoint nowhere = endpoint();
  nowhere.host = "no-such-host.invalid";
  auto session = SshSession::connect(nowhere, options());
  ASSERT_FALSE(session);
  EXPECT_EQ(session.error().code, ErrorCode::kNotFound) << session.error().message;
  EXPECT_NE(session.error().message.find("the host name 'no-such-host.invalid' does not resolve"),
            std::string::npos)
      << session.error().message;
}

// The harness itself: the command it prints works with OpenSSH's client.
TEST(TestSshd, PrintsAnSshCommandThatWorks) {
  haul::testing::TestSshd sshd;
  EXPECT_EQ(sshd.ssh_command(), "ssh -p " + std::to_string(sshd.port()) + " " + sshd.user() +
                                    "@127.0.0.1 -i " + sshd.client_key().string());
  EXPECT_EQ(sshd.host_key_fingerprint().rfind("SHA256:", 0), 0u);
  const std::string line =
      sshd.ssh_command() + " -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes" +
      " -o UserKnownHostsFile=" + sshd.known_hosts().string() + " echo ok 2>&1";
  // Strict with an empty known_hosts: refused; then accept-new: works.
  FILE* refused = ::popen(line.c_str(), "r");
  char buffer[512] = {};
  std::string out(buffer, std::fread(buffer, 1, sizeof buffer - 1, refused));
  EXPECT_NE(::pclose(refused), 0) << out;
  std::string accept = line;
  accept.replace(accept.find("StrictHostKeyChecking=yes"), 25, "StrictHostKeyChecking=accept-new");
  FILE* ok = ::popen(accept.c_str(), "r");
  out.assign(buffer, std::fread(buffer, 1, sizeof buffer - 1, ok));
  EXPECT_EQ(::pclose(ok), 0) << out;
  EXPECT_NE(out.find("ok\n"), std::string::npos) << out;
  EXPECT_NE(sshd.log().find("Accepted publickey for " + sshd.user()), std::string::npos);
}

// An ssh-agent holding the client key, reachable through SSH_AUTH_SOCK.
class AgentFixture {
 public:
  explicit AgentFixture(const fs::path& dir, const fs::path& key) : socket_(dir / "agent.sock") {
    std::vector<std::string> args{"ssh-agent", "-D", "-a", socket_.string()};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    ::posix_spawnp(&pid_, "ssh-agent", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    for (int i = 0; i < 200 && !fs::exists(socket_); ++i) std::this_thread::sleep_for(10ms);
    const char* old = std::getenv("SSH_AUTH_SOCK");
    if (old != nullptr) old_sock_ = old;
    ::setenv("SSH_AUTH_SOCK", socket_.c_str(), 1);
    added_ = std::system(("ssh-add -q " + key.string() + " 2>/dev/null").c_str()) == 0;
  }
  ~AgentFixture() {
    if (old_sock_) {
      ::setenv("SSH_AUTH_SOCK", old_sock_->c_str(), 1);
    } else {
      ::unsetenv("SSH_AUTH_SOCK");
    }
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool ready() const { return pid_ > 0 && added_; }

 private:
  fs::path socket_;
  pid_t pid_ = -1;
  bool added_ = false;
  std::optional<std::string> old_sock_;
};

TEST_F(SshSessionTest, AuthenticatesThroughTheAgentOnlyWhenAllowed) {
  AgentFixture agent(sshd_.dir(), sshd_.client_key());
  ASSERT_TRUE(agent.ready());
  SshEndpoint no_key = endpoint();
  no_key.identity_files.clear();
  SessionOptions with_agent = options();
  with_agent.use_agent = true;
  auto session = SshSession::connect(no_key, with_agent);
  ASSERT_TRUE(session) << session.error().message;
  EXPECT_EQ(run(**session, "echo via-agent").out, "via-agent\n");

  auto refused = SshSession::connect(no_key, options());  // use_agent = false
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("ssh-agent (disabled)"), std::string::npos)
      << refused.error().message;
}

}  // namespace
}  // namespace haul::remote
