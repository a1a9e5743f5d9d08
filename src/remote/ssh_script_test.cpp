// The remote-run script text and the stderr marker filter. Quoting is checked
// by feeding the text to a local /bin/sh: the only judge that matters.
#include "remote/ssh_script.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>

namespace haul::remote {
namespace {

// Runs `script` with `sh -s` (as the remote side does) and returns stdout.
std::string run_local_sh(const std::string& script, int* status = nullptr) {
  char path[] = "/tmp/haul-script-XXXXXX";
  const int fd = ::mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, script.data(), script.size()), static_cast<ssize_t>(script.size()));
  ::close(fd);
  FILE* pipe = ::popen(("sh -s < " + std::string(path) + " 2>/dev/null").c_str(), "r");
  std::string out;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  const int rc = ::pclose(pipe);
  if (status != nullptr) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  ::unlink(path);
  return out;
}

TEST(SingleQuote, QuotesSoTheShellReadsTheExactValue) {
  EXPECT_EQ(single_quote("plain"), "'plain'");
  EXPECT_EQ(single_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(single_quote(""), "''");
  const std::string nasty = "a'b\"c $(touch /tmp/haul-pwned) `id` \\n\nline2 $HOME ;|&<>*?";
  EXPECT_EQ(run_local_sh("printf '%s' " + single_quote(nasty) + "\n"), nasty);
}

TEST(EnvName, AcceptsPortableNamesOnly) {
  EXPECT_TRUE(is_env_name("HF_TOKEN"));
  EXPECT_TRUE(is_env_name("_x1"));
  EXPECT_FALSE(is_env_name(""));
  EXPECT_FALSE(is_env_name("1ABC"));
  EXPECT_FALSE(is_env_name("A-B"));
  EXPECT_FALSE(is_env_name("A=B"));
  EXPECT_FALSE(is_env_name("A B"));
}

TEST(BuildRunScript, RejectsBadInputWithoutEchoingValues) {
  auto bad_name = build_run_script("true", {{"BAD-NAME", "v"}});
  ASSERT_FALSE(bad_name);
  EXPECT_EQ(bad_name.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad_name.error().message.find("BAD-NAME"), std::string::npos);

  auto nul = build_run_script("true", {{"TOKEN", std::string("sec\0ret", 7)}});
  ASSERT_FALSE(nul);
  EXPECT_NE(nul.error().message.find("TOKEN"), std::string::npos);
  EXPECT_EQ(nul.error().message.find("sec"), std::string::npos);

  EXPECT_FALSE(build_run_script("  \n", {}));
  EXPECT_FALSE(build_run_script(std::string("a\0b", 3), {}));
}

TEST(BuildRunScript, SecretsAppearOnlyQuotedInStdinText) {
  auto script = build_run_script("echo done", {{"HF_TOKEN", "hf_abc'def"}});
  ASSERT_TRUE(script);
  EXPECT_NE(script->find("export HF_TOKEN='hf_abc'\\''def'\n"), std::string::npos);
  // The exec request carries nothing from the caller.
  EXPECT_EQ(kRunExecRequest, "exec sh -s");
}

TEST(BuildRunScript, RunsCommandWithEnvAndAnnouncesItsOwnProcessGroup) {
  auto script =
      build_run_script("printf '[%s][%s]' \"$A\" \"$B\"; ps -o pgid= -p $$ | tr -d ' ' >&2; exit 7",
                       {{"A", "x'y\n$(z)"}, {"B", ""}});
  ASSERT_TRUE(script);
  // Capture stderr too: the marker line and the pgid `ps` printed must agree.
  char path[] = "/tmp/haul-script-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, script->data(), script->size()), static_cast<ssize_t>(script->size()));
  ::close(fd);
  FILE* pipe = ::popen(("sh -s < " + std::string(path) + " 2>&1; echo \" rc=$?\"").c_str(), "r");
  std::string out;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  ::pclose(pipe);
  ::unlink(path);

  PgidMarkerFilter filter;
  std::string rest = filter.feed(out);
  rest += filter.finish();
  ASSERT_TRUE(filter.seen()) << out;
  ASSERT_TRUE(filter.pgid().has_value()) << out;
  EXPECT_NE(rest.find("[x'y\n$(z)][]"), std::string::npos) << rest;
  EXPECT_NE(rest.find(std::to_string(*filter.pgid()) + "\n"), std::string::npos) << rest;
  EXPECT_NE(rest.find(" rc=7"), std::string::npos) << rest;
  // A new group: not the test process's own.
  EXPECT_NE(*filter.pgid(), static_cast<long>(::getpgrp()));
}

// Runs the script through `prefix /bin/sh -s` with setsid hidden from PATH;
// returns stdout+stderr.
std::string run_without_setsid(const std::string& script, const std::string& prefix) {
  char path[] = "/tmp/haul-script-XXXXXX";
  const int fd = ::mkstemp(path);
  EXPECT_EQ(::write(fd, script.data(), script.size()), static_cast<ssize_t>(script.size()));
  ::close(fd);
  const std::string line =
      prefix + " /usr/bin/env PATH=/nonexistent /bin/sh -s < " + std::string(path) + " 2>&1";
  FILE* pipe = ::popen(line.c_str(), "r");
  std::string out;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  ::pclose(pipe);
  ::unlink(path);
  return out;
}

TEST(BuildRunScript, WithoutSetsidFallsBackToTheShellsOwnGroupOnlyWhenItLeadsOne) {
  auto script = build_run_script(
      "echo \"[$V]\"; read -r _ _ _ _ g _ < /proc/$$/stat; echo \"g=$g\"", {{"V", "v'1"}});
  ASSERT_TRUE(script);

  // Like under sshd: the shell is a session (and group) leader.
  PgidMarkerFilter leader;
  std::string out = leader.feed(run_without_setsid(*script, "/usr/bin/setsid"));
  ASSERT_TRUE(leader.pgid().has_value()) << out;
  EXPECT_NE(out.find("[v'1]\n"), std::string::npos) << out;
  EXPECT_NE(out.find("g=" + std::to_string(*leader.pgid()) + "\n"), std::string::npos) << out;

  // Not a group leader: no group is announced, so nothing would be killed.
  PgidMarkerFilter member;
  out = member.feed(run_without_setsid(*script, ""));
  EXPECT_TRUE(member.seen()) << out;
  EXPECT_FALSE(member.pgid().has_value()) << out;
  EXPECT_NE(out.find("[v'1]\n"), std::string::npos) << out;
}

TEST(BuildKillRequest, SignalsTheWholeGroupThroughPlainSh) {
  const std::string request = build_kill_request(4242);
  EXPECT_EQ(request.rfind("exec sh -c '", 0), 0u) << request;
  EXPECT_NE(request.find("g=4242\n"), std::string::npos);
  EXPECT_NE(request.find("kill -s TERM -- -$g"), std::string::npos);
  EXPECT_NE(request.find("kill -s KILL -- -$x"), std::string::npos);
  // A group that no longer exists: the script still exits 0, quickly.
  int status = -1;
  run_local_sh(request.substr(5) + "\n", &status);  // drop "exec " to run it under our sh
  EXPECT_EQ(status, 0);
}

// Live (non-zombie) members of process group `pgid`, from /proc.
int live_members(long pgid) {
  int live = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    if (!std::getline(in, stat)) continue;
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(paren + 1));
    char state = 0;
    long ppid = 0, pgrp = 0;
    fields >> state >> ppid >> pgrp;
    if (pgrp == pgid && state != 'Z') ++live;
  }
  return live;
}

// Starts `body` in a new process group in the background; returns its id.
long start_group(const std::string& body) {
  char path[] = "/tmp/haul-pgid-XXXXXX";
  const int fd = ::mkstemp(path);
  ::close(fd);
  const std::string line = "setsid sh -c " +
                           single_quote("echo $$ > " + std::string(path) + "; " + body) +
                           " >/dev/null 2>&1 </dev/null &";
  EXPECT_EQ(std::system(line.c_str()), 0);
  long pgid = 0;
  for (int i = 0; i < 200 && pgid == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::ifstream in(path);
    in >> pgid;
  }
  ::unlink(path);
  return pgid;
}

TEST(BuildKillRequest, KillsTheWholeGroupAndEscalatesWhenTermIsIgnored) {
  using Clock = std::chrono::steady_clock;
  const long polite = start_group("sh -c 'sleep 3021' & sleep 3022");
  const long stubborn = start_group("trap '' TERM; sh -c 'sleep 3023' & sleep 3024");
  ASSERT_GT(polite, 1);
  ASSERT_GT(stubborn, 1);
  // Both groups have their children (the stubborn one its TERM trap, set first).
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline && (live_members(polite) < 2 || live_members(stubborn) < 2))
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_GE(live_members(polite), 2);
  ASSERT_GE(live_members(stubborn), 2);

  auto start = Clock::now();
  run_local_sh(build_kill_request(polite).substr(5) + "\n");
  // TERM suffices; zombies left for a slow PID 1 do not count as alive.
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(1500));
  EXPECT_EQ(live_members(polite), 0);

  start = Clock::now();
  run_local_sh(build_kill_request(stubborn).substr(5) + "\n");
  EXPECT_GE(Clock::now() - start, std::chrono::seconds(2));  // the TERM grace, then KILL
  EXPECT_EQ(live_members(stubborn), 0);
}

// Durable runs, played by a local sh with its own HOME: the run directory
// lives there.
class DurableRunTest : public ::testing::Test {
 protected:
  DurableRunTest() {
    home = std::filesystem::temp_directory_path() /
           ("haul-durable-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(home);
    std::filesystem::create_directories(home);
  }
  ~DurableRunTest() override { std::filesystem::remove_all(home); }

  std::string script(const std::string& command, const RunScriptOptions& how) const {
    auto text = build_run_script(command, {{"COUNT", (home / "count").string()}}, how);
    EXPECT_TRUE(text) << text.error().message;
    return "export HOME='" + home.string() + "'\n" + path_prefix + *text;
  }
  std::string script(const std::string& command) const {
    RunScriptOptions how;
    how.run_dir = "runs/job/0";
    return script(command, how);
  }
  // Runs it to the end; returns stderr with the marker removed. `watch`, when
  // set, sees the raw stderr so far each time more arrives.
  std::string run(const std::string& command, int* status, PgidMarkerFilter* marker = nullptr,
                  const RunScriptOptions* how = nullptr) {
    const std::filesystem::path file = home / "script.sh";
    std::ofstream(file) << (how != nullptr ? script(command, *how) : script(command));
    FILE* pipe = ::popen(("sh -s < '" + file.string() + "' 2>&1 >/dev/null").c_str(), "r");
    std::string out;
    char buffer[4096];
    for (ssize_t n; (n = ::read(::fileno(pipe), buffer, sizeof buffer)) > 0;) {
      out.append(buffer, static_cast<std::size_t>(n));
      if (watch) watch(out);
    }
    const int rc = ::pclose(pipe);
    *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    PgidMarkerFilter own;
    PgidMarkerFilter& filter = marker != nullptr ? *marker : own;
    return filter.feed(out) + filter.finish();
  }
  int starts() const {
    std::ifstream in(home / "count");
    int lines = 0;
    for (std::string line; std::getline(in, line);) ++lines;
    return lines;
  }
  std::filesystem::path run_dir() const { return home / "runs/job/0"; }
  std::string mode() const {
    std::ifstream in(run_dir() / "mode");
    std::string text;
    in >> text;
    return text;
  }

  std::filesystem::path home;
  std::string path_prefix;  // shell text run before the script (a PATH change)
  std::function<void(const std::string&)> watch;
};

TEST_F(DurableRunTest, RunsDetachedAndReportsOutputAndStatus) {
  int status = -1;
  PgidMarkerFilter marker;
  const std::string out =
      run("echo start >> \"$COUNT\"; echo to-out; echo to-err >&2; exit 3", &status, &marker);
  EXPECT_EQ(status, 3);
  EXPECT_NE(out.find("to-out\n"), std::string::npos) << out;
  EXPECT_NE(out.find("to-err\n"), std::string::npos) << out;
  ASSERT_TRUE(marker.pgid().has_value()) << out;
  EXPECT_EQ(starts(), 1);
  EXPECT_TRUE(std::filesystem::exists(run_dir() / "rc"));
}

TEST_F(DurableRunTest, ASecondChannelAttachesToTheRunningCommandInsteadOfStartingIt) {
  // The command runs until the test opens its gate (or a minute passes), so it
  // is surely still running when the second channel comes.
  const std::filesystem::path gate = home / "gate";
  const std::string command = "echo start >> \"$COUNT\"; i=0; while [ ! -e '" + gate.string() +
                              "' ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done; test -e '" +
                              gate.string() + "' && echo finished";
  const std::filesystem::path file = home / "first.sh";
  std::ofstream(file) << script(command);
  // The first channel goes away once the command has started, like a daemon
  // killed mid-command.
  const int first = std::system(
      ("sh -s < '" + file.string() + "' >/dev/null 2>&1 & follower=$!; i=0; " + "while [ ! -s '" +
       run_dir().string() + "/pgid' ] && [ $i -lt 600 ]; do sleep 0.05; " +
       "i=$((i+1)); done; kill $follower")
          .c_str());
  ASSERT_EQ(first, 0);
  ASSERT_TRUE(std::filesystem::exists(run_dir() / "pgid"));
  ASSERT_FALSE(std::filesystem::exists(run_dir() / "rc")) << "still running";
  // Once the second channel follows the run (it printed the group id), the
  // gate opens.
  watch = [&](const std::string& out) {
    if (out.find(kPgidMarker) != std::string::npos) std::ofstream touch(gate);
  };
  int status = -1;
  const std::string out = run(command, &status);
  EXPECT_EQ(status, 0);
  EXPECT_NE(out.find("finished"), std::string::npos) << out;
  EXPECT_EQ(starts(), 1) << "attached, not started twice";
}

TEST_F(DurableRunTest, ACommandThatSucceededUnobservedIsNotRunAgain) {
  int status = -1;
  run("echo start >> \"$COUNT\"; echo 'Download completed'", &status);
  ASSERT_EQ(status, 0);
  const std::string again = run("echo start >> \"$COUNT\"; echo 'Download completed'", &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(starts(), 1);
  EXPECT_NE(again.find("Download completed"), std::string::npos) << "its output is replayed";
}

TEST_F(DurableRunTest, AFailedOrKilledCommandStartsAfresh) {
  int status = -1;
  run("echo start >> \"$COUNT\"; exit 4", &status);
  EXPECT_EQ(status, 4);
  run("echo start >> \"$COUNT\"; exit 4", &status);
  EXPECT_EQ(starts(), 2);

  // Killed while followed: the follower says so instead of waiting forever.
  PgidMarkerFilter marker;
  std::string out;
  std::thread killer([&] {
    // Once the command runs (it counted its start), kill its group.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline &&
           (!std::filesystem::exists(run_dir() / "pgid") || starts() < 3))
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    long pgid = 0;
    std::ifstream(run_dir() / "pgid") >> pgid;
    if (pgid > 1) run_local_sh(build_kill_request(pgid).substr(5) + "\n");
  });
  out = run("echo start >> \"$COUNT\"; sleep 3025", &status, &marker);
  killer.join();
  EXPECT_EQ(status, 137) << out;
  EXPECT_NE(out.find("haul: the command was killed"), std::string::npos) << out;
  EXPECT_EQ(starts(), 3);
}

TEST_F(DurableRunTest, ATerminalRunHasAWideTerminalThatNeverWaitsForInput) {
  RunScriptOptions how;
  how.run_dir = "runs/job/0";
  how.terminal = true;
  int status = -1;
  const std::string out =
      run("test -t 1 && echo on-a-tty; stty size </dev/tty; read x </dev/tty; read y; echo "
          "\"[$x][$y]\"; "
          "exit 5",
          &status, nullptr, &how);
  EXPECT_EQ(status, 5) << "script -e passes the status on";
  EXPECT_EQ(mode(), "pty");
  // A read of the terminal returns at once: empty, or the ^D script(1) sends
  // when its own stdin ends.
  EXPECT_NE(out.find("on-a-tty\r\n50 200\r\n["), std::string::npos)
      << ::testing::PrintToString(out);
  EXPECT_NE(out.find("][]\r\n"), std::string::npos) << ::testing::PrintToString(out);
}

TEST_F(DurableRunTest, WithoutAUsableScriptTheCommandRunsPlain) {
  const std::filesystem::path bin = home / "bin";
  std::filesystem::create_directories(bin);
  std::ofstream(bin / "script") << "#!/bin/sh\nexit 1\n";  // busybox-like: no -e
  std::filesystem::permissions(bin / "script", std::filesystem::perms::owner_all);
  path_prefix = "export PATH='" + bin.string() + "':\"$PATH\"\n";
  RunScriptOptions how;
  how.run_dir = "runs/job/0";
  how.terminal = true;
  int status = -1;
  const std::string out = run("test -t 1 || echo no-tty", &status, nullptr, &how);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(mode(), "plain");
  EXPECT_NE(out.find("no-tty\n"), std::string::npos) << out;
}

TEST_F(DurableRunTest, TheKillReachesTheTerminalsProcessGroup) {
  // The command on the terminal ignores the hang-up its shell's death and
  // script's exit send: only a kill of its own group ends it.
  RunScriptOptions how;
  how.run_dir = "runs/job/0";
  how.terminal = true;
  const std::filesystem::path file = home / "pty.sh";
  // It notes how it ended: a TERM leaves a mark, a KILL (the request's last
  // resort, after ~3 s of waiting) cannot.
  const std::filesystem::path mark = home / "ended-by";
  std::ofstream(file) << script("trap '' HUP; trap 'echo TERM > \"" + mark.string() +
                                    "\"; exit 143' TERM; sleep 3071 & wait $!; echo survived",
                                how);
  ASSERT_EQ(std::system(("sh -s < '" + file.string() + "' >/dev/null 2>&1 &").c_str()), 0);
  long pgid = 0;
  for (int i = 0; i < 500 && pgid == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::ifstream(run_dir() / "pgid") >> pgid;
  }
  ASSERT_GT(pgid, 1);
  const auto sleeping = [] { return std::system("pgrep -f 'sleep [3]071' >/dev/null") == 0; };
  for (int i = 0; i < 500 && !sleeping(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(sleeping());
  run_local_sh(build_kill_request(pgid).substr(5) + "\n");
  EXPECT_FALSE(sleeping());
  // The TERM reached the command's own group: a kill of the wrong group
  // would have left it to the KILL at the end, which leaves no mark. (A
  // time bound said the same and failed on a loaded machine.)
  std::string ended_by;
  std::ifstream(mark) >> ended_by;
  EXPECT_EQ(ended_by, "TERM") << "TERM to the command's group suffices";
}

// build_output_removal, with the records a durable run left.
TEST_F(DurableRunTest, RemovesWhatTheRunCreatedOrChangedAndNothingElse) {
  const std::filesystem::path d = home / "d";
  std::filesystem::create_directories(d / "subdir");
  std::ofstream(d / "kept.bin") << "installed";
  std::ofstream(d / "changed.bin") << "old";
  RunScriptOptions how;
  how.run_dir = "runs/job/0";
  how.watch = {(d / "new.bin").string(), (d / "kept.bin").string(), (d / "changed.bin").string(),
               "relative.bin"};
  int status = -1;
  run("cd \"$HOME\"/d; echo x > new.bin; echo y >> changed.bin; echo z > learned.bin; "
      "echo q > \"it's \\$(x).bin\"; echo r > ../relative.bin; exit 3",
      &status, nullptr, &how);
  ASSERT_EQ(status, 3);
  std::ifstream before(run_dir() / "before");
  std::string record((std::istreambuf_iterator<char>(before)), std::istreambuf_iterator<char>());
  EXPECT_EQ(record, "-" + (d / "new.bin").string() + "\n+" + (d / "kept.bin").string() + "\n+" +
                        (d / "changed.bin").string() + "\n-./relative.bin\n");

  const std::string removal = build_output_removal(
      "runs/job/0",
      {(d / "new.bin").string(), (d / "kept.bin").string(), (d / "changed.bin").string(),
       (d / "learned.bin").string(), "/dev/null", (d / "subdir").string(), "relative.bin",
       "bad\npath", (d / "it's $(x).bin").string()});
  EXPECT_EQ(removal.rfind("sh -c '", 0), 0u);
  EXPECT_EQ(removal.find('\n'), std::string::npos) << "one line, for any login shell";
  // Relative paths are from the login directory: run it there.
  int removed = -1;
  run_local_sh("export HOME='" + home.string() + "'; cd \"$HOME\" && " + removal + "\n", &removed);
  EXPECT_EQ(removed, 0);
  EXPECT_FALSE(std::filesystem::exists(d / "new.bin"));
  EXPECT_TRUE(std::filesystem::exists(d / "kept.bin")) << "there before, untouched";
  EXPECT_FALSE(std::filesystem::exists(d / "changed.bin")) << "there before, but written";
  EXPECT_FALSE(std::filesystem::exists(d / "learned.bin")) << "not recorded, written since";
  EXPECT_TRUE(std::filesystem::exists(d / "subdir"));
  EXPECT_TRUE(std::filesystem::exists("/dev/null"));
  EXPECT_FALSE(std::filesystem::exists(home / "relative.bin"));
  EXPECT_FALSE(std::filesystem::exists(d / "it's $(x).bin")) << "quoted, not run";
}

TEST_F(DurableRunTest, RemovesNothingForARunThatNeverStartedOrSucceeded) {
  const std::filesystem::path file = home / "model.bin";
  std::ofstream(file) << "x";
  const std::string removal = build_output_removal("runs/job/0", {file.string()});
  run_local_sh("export HOME='" + home.string() + "'; " + removal + "\n");
  EXPECT_TRUE(std::filesystem::exists(file)) << "no record: never started";

  RunScriptOptions how;
  how.run_dir = "runs/job/0";
  how.watch = {file.string()};
  std::filesystem::remove(file);
  int status = -1;
  run("echo complete > '" + file.string() + "'", &status, nullptr, &how);
  ASSERT_EQ(status, 0);
  run_local_sh("export HOME='" + home.string() + "'; " + removal + "\n");
  EXPECT_TRUE(std::filesystem::exists(file)) << "the run finished with status 0";
}

TEST(BuildRunScript, RefusesARunDirectoryOutsideHome) {
  auto script = build_run_script("true", {}, "../elsewhere");
  ASSERT_FALSE(script);
  EXPECT_NE(script.error().message.find("../elsewhere"), std::string::npos);
}

TEST(PgidMarkerFilter, RemovesMarkerSplitAcrossChunks) {
  PgidMarkerFilter filter;
  std::string out = filter.feed("motd noise\n@@HAUL_");
  EXPECT_EQ(out, "motd noise\n");
  EXPECT_FALSE(filter.seen());
  out = filter.feed("PGID=1234\nreal err");
  EXPECT_EQ(out, "real err");
  EXPECT_TRUE(filter.seen());
  EXPECT_EQ(filter.pgid(), 1234);
  // After the marker everything passes through untouched, even a fake marker.
  EXPECT_EQ(filter.feed("@@HAUL_PGID=1\n"), "@@HAUL_PGID=1\n");
  EXPECT_EQ(filter.pgid(), 1234);
}

TEST(PgidMarkerFilter, HandlesNoneNoiseBeforeMarkerAndMissingMarker) {
  PgidMarkerFilter none;
  EXPECT_EQ(none.feed("@@HAUL_PGID=none\n"), "");
  EXPECT_TRUE(none.seen());
  EXPECT_FALSE(none.pgid().has_value());

  PgidMarkerFilter glued;  // startup noise without a newline before the marker
  EXPECT_EQ(glued.feed("warning: x@@HAUL_PGID=77\nerr\n"), "warning: x\nerr\n");
  EXPECT_EQ(glued.pgid(), 77);

  PgidMarkerFilter missing;  // the wrapper never ran: held bytes come out at the end
  EXPECT_EQ(missing.feed("sh: 1: exec: bad\npartial"), "sh: 1: exec: bad\n");
  EXPECT_EQ(missing.finish(), "partial");
  EXPECT_FALSE(missing.seen());

  PgidMarkerFilter bogus;  // a marker with a non-numeric value is just text
  EXPECT_EQ(bogus.feed("@@HAUL_PGID=12x\n"), "@@HAUL_PGID=12x\n");
  EXPECT_FALSE(bogus.seen());
}

TEST(PgidMarkerFilter, DoesNotHoldAnEndlessLineForever) {
  PgidMarkerFilter filter;
  const std::string long_line(PgidMarkerFilter::kMaxHeld + 10, 'x');
  EXPECT_EQ(filter.feed(long_line), long_line);
}

TEST(TailBuffer, KeepsTheLastBytesOnACharacterBoundary) {
  TailBuffer tail(8);
  tail.append("0123456789");
  EXPECT_EQ(tail.str(), "23456789");
  for (int i = 0; i < 100; ++i) tail.append("ab");
  EXPECT_EQ(tail.str(), "abababab");
  TailBuffer utf8(4);
  utf8.append("x\xC3\xA9\xC3\xA9");  // "xéé": the cut would land inside the first é
  EXPECT_EQ(utf8.str(), "\xC3\xA9\xC3\xA9");
  TailBuffer mid(3);
  mid.append("\xC3\xA9\xC3\xA9");  // last 3 bytes start with a continuation byte
  EXPECT_EQ(mid.str(), "\xC3\xA9");
}

}  // namespace
}  // namespace haul::remote
