// The CLI against a running daemon, as a user types it: `haul add`, `haul
// jobs`, the job actions (by id and unique prefix, by path, --all), `haul
// status`, `haul worker start|stop`, the answer when no daemon runs, and the
// exit code for bad usage.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "daemon_fixture.hpp"

namespace haul::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

Resource slow(std::string body, std::size_t rate = 32 * 1024) {
  return Resource{.body = std::move(body), .rate = rate};
}

// A loopback port nobody listens on (bound, read, released).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (fd >= 0) ::close(fd);
    return 0;
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string first_word(const std::string& line) { return line.substr(0, line.find(' ')); }

const std::regex kUuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

class DaemonCliTest : public DaemonTest {
 protected:
  // Runs haul with `--server` pointing at `daemon`.
  HaulProcess::Outcome haul(const Daemon& daemon, std::vector<std::string> args,
                            std::vector<std::string> env = {}) {
    args.push_back("--server");
    args.push_back(daemon.url());
    return run_haul(std::move(args), std::move(env));
  }

  json wait_running(const Daemon& daemon, const std::string& id) {
    json job;
    EXPECT_TRUE(eventually([&] {
      job = daemon.job(id);
      return job.value("state", "") == "running" && job.value("bytes_done", 0) > 0 &&
             job["items"][0]["path"].is_string();
    })) << job.dump();
    return job;
  }
};

// ---- add and jobs -----------------------------------------------------------------

TEST_F(DaemonCliTest, AddPrintsTheJobIdAndTheJobRuns) {
  const std::string body = random_bytes(60'000, 1);
  server.add("/models/lora.safetensors", {.body = body});
  auto daemon = start_daemon();
  const auto added = haul(*daemon, {"add", server.url("/models/lora.safetensors"), "-d", "loras",
                                    "--priority", "3", "--group", "loras", "--name", "My LoRA"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const auto lines = lines_of(added.out);
  ASSERT_EQ(lines.size(), 1u) << added.out;
  const std::string id = first_word(lines[0]);
  ASSERT_TRUE(std::regex_match(id, kUuid)) << added.out;

  const json job = daemon->job(id);
  EXPECT_EQ(job["dest"], fs::weakly_canonical(models() / "loras").string());
  EXPECT_EQ(job["priority"], 3);
  EXPECT_EQ(job["group"], "loras");
  EXPECT_EQ(job["name"], "My LoRA");
  daemon->wait_for_state(id, "completed");
  EXPECT_EQ(read_file(models() / "loras" / "lora.safetensors"), body);
}

TEST_F(DaemonCliTest, AddOfSeveralSourcesPrintsOneIdEachAndNamesExistingJobs) {
  server.add("/a.bin", slow(random_bytes(400'000, 2)));
  server.add("/b.bin", slow(random_bytes(400'000, 3)));
  auto daemon = start_daemon();
  const auto first = haul(*daemon, {"add", server.url("/a.bin"), server.url("/b.bin")});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto lines = lines_of(first.out);
  ASSERT_EQ(lines.size(), 2u) << first.out;
  const std::string a = first_word(lines[0]);
  const std::string b = first_word(lines[1]);
  EXPECT_TRUE(std::regex_match(a, kUuid)) << first.out;
  EXPECT_TRUE(std::regex_match(b, kUuid)) << first.out;
  EXPECT_NE(a, b);
  EXPECT_EQ(daemon->job(a)["source"], server.url("/a.bin"));
  EXPECT_EQ(daemon->job(b)["source"], server.url("/b.bin"));

  // The same download again while it runs: the existing job, said so.
  const auto again = haul(*daemon, {"add", server.url("/a.bin")});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(first_word(again.out), a);
  EXPECT_TRUE(contains(again.out, "already")) << again.out;

  // --json prints the jobs as JSON.
  server.add("/c.bin", {.body = "c"});
  const auto as_json = haul(*daemon, {"add", "--json", server.url("/c.bin")});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  const json parsed = json::parse(as_json.out, nullptr, false);
  ASSERT_TRUE(parsed.is_array()) << as_json.out;
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_TRUE(std::regex_match(parsed[0].value("id", ""), kUuid)) << as_json.out;
}

TEST_F(DaemonCliTest, AddRefusedByTheDaemonExitsOneWithItsMessage) {
  auto daemon = start_daemon();
  server.add("/a.bin", {.body = "a"});
  const auto outside = haul(*daemon, {"add", server.url("/a.bin"), "-d", "/etc"});
  EXPECT_EQ(outside.exit_code, 1) << outside.out << outside.err;
  EXPECT_TRUE(contains(outside.err, "/etc")) << outside.err;
  EXPECT_EQ(lines_of(outside.err).size(), 1u) << outside.err;
  const auto bad_source = haul(*daemon, {"add", "ftp://example.com/model.bin"});
  EXPECT_EQ(bad_source.exit_code, 1) << bad_source.out << bad_source.err;
  EXPECT_FALSE(bad_source.err.empty());
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs").json()["count"], 0);
}

TEST_F(DaemonCliTest, HaulServerEnvironmentVariableNamesTheDaemon) {
  server.add("/env.bin", {.body = random_bytes(5'000, 4)});
  auto daemon = start_daemon();
  const std::vector<std::string> env = {"HAUL_SERVER=" + daemon->url()};
  const auto added = run_haul({"add", server.url("/env.bin")}, env);
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const std::string id = first_word(added.out);
  daemon->wait_for_state(id, "completed");
  const auto listed = run_haul({"jobs", "--format", "simple"}, env);
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_TRUE(contains(listed.out, id)) << listed.out;
}

TEST_F(DaemonCliTest, JobsPrintsATableJsonOrSimpleLines) {
  server.add("/good.bin", {.body = random_bytes(30'000, 5)});
  server.add("/gone.bin", {.body = "x", .fail_status = 404, .fail_times = -1});
  auto daemon = start_daemon();

  const auto empty = haul(*daemon, {"jobs"});
  EXPECT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_TRUE(contains(empty.out, "(no jobs)")) << empty.out;

  const std::string good = daemon->add({{"source", server.url("/good.bin")}})["id"];
  const std::string gone = daemon->add({{"source", server.url("/gone.bin")}})["id"];
  daemon->wait_for_state(good, "completed");
  daemon->wait_for_state(gone, "failed");

  const auto table = haul(*daemon, {"jobs", "--format", "table"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  const auto rows = lines_of(table.out);
  ASSERT_GE(rows.size(), 3u) << table.out;
  for (const char* column : {"ID", "STATE", "PROGRESS", "NAME"})
    EXPECT_TRUE(contains(rows[0], column)) << rows[0];
  EXPECT_EQ(rows[1].rfind(good.substr(0, 8), 0), 0u) << table.out;
  EXPECT_TRUE(contains(rows[1], "completed")) << rows[1];
  EXPECT_TRUE(contains(rows[1], "100.0%")) << rows[1];
  EXPECT_TRUE(contains(rows[1], "good.bin")) << rows[1];
  EXPECT_EQ(rows[2].rfind(gone.substr(0, 8), 0), 0u) << table.out;
  EXPECT_TRUE(contains(rows[2], "failed")) << rows[2];
  EXPECT_TRUE(contains(table.out, "404")) << table.out;  // the error is shown

  const auto as_json = haul(*daemon, {"jobs", "--format", "json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  const json parsed = json::parse(as_json.out, nullptr, false);
  ASSERT_TRUE(parsed.is_array()) << as_json.out;
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[0]["id"], good);
  EXPECT_EQ(parsed[0]["state"], "completed");
  EXPECT_EQ(parsed[1]["id"], gone);

  const auto simple = haul(*daemon, {"jobs", "--format", "simple"});
  ASSERT_EQ(simple.exit_code, 0) << simple.err;
  const auto lines = lines_of(simple.out);
  ASSERT_EQ(lines.size(), 2u) << simple.out;
  EXPECT_EQ(lines[0], good + " completed 100.0% good.bin");
  EXPECT_EQ(first_word(lines[1]), gone);
  EXPECT_TRUE(contains(lines[1], " failed ")) << lines[1];

  const auto only_failed = haul(*daemon, {"jobs", "--state", "failed", "--format", "simple"});
  ASSERT_EQ(only_failed.exit_code, 0) << only_failed.err;
  ASSERT_EQ(lines_of(only_failed.out).size(), 1u) << only_failed.out;
  EXPECT_EQ(first_word(only_failed.out), gone);

  const auto bad_state = haul(*daemon, {"jobs", "--state", "sleeping"});
  EXPECT_NE(bad_state.exit_code, 0);
  EXPECT_FALSE(bad_state.err.empty());
}

// ---- job actions ----------------------------------------------------------------------

TEST_F(DaemonCliTest, PauseResumeCancelRetryTakeIdsAndUniquePrefixes) {
  server.add("/slow.bin", slow(random_bytes(600'000, 6)));
  server.add("/done.bin", {.body = "done"});
  auto daemon = start_daemon();
  const std::string id = daemon->add({{"source", server.url("/slow.bin")}})["id"];
  const std::string done = daemon->add({{"source", server.url("/done.bin")}})["id"];
  daemon->wait_for_state(done, "completed");
  wait_running(*daemon, id);
  // The shortest prefix of `id` that `done` does not share.
  std::size_t n = 1;
  while (done.substr(0, n) == id.substr(0, n)) ++n;
  const std::string prefix = id.substr(0, std::max<std::size_t>(n, 4));

  // The daemon answers at once; a running job is "pausing" until it has stopped.
  const auto paused = haul(*daemon, {"pause", prefix});
  ASSERT_EQ(paused.exit_code, 0) << paused.err;
  EXPECT_TRUE(contains(paused.out, "pausing") || contains(paused.out, "paused")) << paused.out;
  EXPECT_TRUE(contains(paused.out, id.substr(0, 8))) << paused.out;
  daemon->wait_for_state(id, "paused", std::chrono::seconds(10));

  const auto resumed = haul(*daemon, {"resume", id});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const std::string state = daemon->job(id)["state"];
  EXPECT_TRUE(state == "queued" || state == "running") << state;

  const auto cancelled = haul(*daemon, {"cancel", prefix});
  ASSERT_EQ(cancelled.exit_code, 0) << cancelled.err;
  EXPECT_TRUE(contains(cancelled.out, "cancelling") || contains(cancelled.out, "cancelled"))
      << cancelled.out;
  daemon->wait_for_state(id, "cancelled", std::chrono::seconds(10));

  const auto retried = haul(*daemon, {"retry", prefix});
  ASSERT_EQ(retried.exit_code, 0) << retried.err;
  const std::string again = daemon->job(id)["state"];
  EXPECT_TRUE(again == "queued" || again == "running") << again;

  // Several ids at once.
  wait_running(*daemon, id);
  const auto both = haul(*daemon, {"pause", id, done});
  EXPECT_EQ(both.exit_code, 1) << both.out << both.err;  // the completed one cannot pause
  daemon->wait_for_state(id, "paused", std::chrono::seconds(10));
  EXPECT_TRUE(contains(both.err, "cannot pause")) << both.err;

  // Unknown ids and prefixes.
  const auto unknown = haul(*daemon, {"resume", "ffffffff-ffff-4fff-bfff-ffffffffffff"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_FALSE(unknown.err.empty());
  const auto unknown_prefix = haul(*daemon, {"cancel", "zz"});
  EXPECT_EQ(unknown_prefix.exit_code, 1);
  EXPECT_TRUE(contains(unknown_prefix.err, "zz")) << unknown_prefix.err;
  EXPECT_EQ(daemon->job(id)["state"], "paused");

  // A prefix shared by both jobs is ambiguous and acts on neither.
  const auto ambiguous = haul(*daemon, {"cancel", id.substr(0, n - 1)});
  EXPECT_EQ(ambiguous.exit_code, 1) << ambiguous.out;
  EXPECT_FALSE(ambiguous.err.empty());
  EXPECT_EQ(daemon->job(id)["state"], "paused");
}

TEST_F(DaemonCliTest, CancelByPathAndCancelAll) {
  server.add("/a.bin", slow(random_bytes(400'000, 7)));
  server.add("/b.bin", slow(random_bytes(400'000, 8)));
  server.add("/c.bin", slow(random_bytes(400'000, 9)));
  auto daemon = start_daemon();
  const std::string a = daemon->add({{"source", server.url("/a.bin")}, {"dest", "loras"}})["id"];
  const std::string b = daemon->add({{"source", server.url("/b.bin")}, {"dest", "vae"}})["id"];
  const std::string c = daemon->add({{"source", server.url("/c.bin")}, {"dest", "vae"}})["id"];
  wait_running(*daemon, a);
  const json running_b = wait_running(*daemon, b);
  wait_running(*daemon, c);

  const auto by_dir = haul(*daemon, {"cancel", "--path", (models() / "loras").string()});
  ASSERT_EQ(by_dir.exit_code, 0) << by_dir.err;
  daemon->wait_for_state(a, "cancelled", std::chrono::seconds(10));
  EXPECT_EQ(daemon->job(b)["state"], "running");
  EXPECT_EQ(daemon->job(c)["state"], "running");

  // A file path names the one job writing it. Issue 10 item 14: a relative
  // path is taken from the daemon's models root, as `haul add -d` is, not
  // from the client's working directory.
  const std::string b_path = running_b["items"][0]["path"];
  const std::string relative = fs::path(b_path).lexically_relative(models()).string();
  ASSERT_EQ(relative, "vae/b.bin");
  fs::create_directories(dir / "elsewhere");
  HaulProcess by_file_process({"cancel", "--path", relative, "--server", daemon->url()}, {},
                              HAUL_BINARY, dir / "elsewhere");
  const auto by_file = by_file_process.wait();
  ASSERT_EQ(by_file.exit_code, 0) << by_file.err;
  daemon->wait_for_state(b, "cancelled", std::chrono::seconds(10));
  EXPECT_EQ(daemon->job(c)["state"], "running");

  const auto nobody = haul(*daemon, {"cancel", "--path", (models() / "checkpoints").string()});
  EXPECT_EQ(nobody.exit_code, 1);
  EXPECT_FALSE(nobody.err.empty());

  const auto all = haul(*daemon, {"cancel", "--all"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  daemon->wait_for_state(c, "cancelled", std::chrono::seconds(10));
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs?state=cancelled").json()["count"], 3);

  const auto nothing = haul(*daemon, {"cancel", "--all"});
  EXPECT_EQ(nothing.exit_code, 0) << nothing.err;
  EXPECT_TRUE(contains(nothing.out, "nothing to cancel")) << nothing.out;
}

TEST_F(DaemonCliTest, StatusShowsTheDaemonAndItsJobs) {
  server.add("/s.bin", {.body = random_bytes(10'000, 10)});
  auto daemon = start_daemon();
  daemon->wait_for_state(daemon->add({{"source", server.url("/s.bin")}})["id"], "completed");
  const auto status = haul(*daemon, {"status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_TRUE(contains(status.out, "haul ")) << status.out;
  EXPECT_TRUE(contains(status.out, daemon->url())) << status.out;
  EXPECT_TRUE(contains(status.out, "1 completed")) << status.out;
  EXPECT_TRUE(contains(status.out, "transfers: 0")) << status.out;
}

TEST_F(DaemonCliTest, TokenComesFromTheEnvironmentOrTheFlag) {
  const std::string token = "cli-token-77";
  auto daemon = start_daemon({}, {"HAUL_TOKEN=" + token});
  const auto with_env = haul(*daemon, {"jobs"}, {"HAUL_TOKEN=" + token});
  EXPECT_EQ(with_env.exit_code, 0) << with_env.err;
  const auto with_flag = haul(*daemon, {"status", "--token", token}, {"HAUL_TOKEN="});
  EXPECT_EQ(with_flag.exit_code, 0) << with_flag.err;
  const auto without = haul(*daemon, {"jobs"}, {"HAUL_TOKEN="});
  EXPECT_EQ(without.exit_code, 1) << without.out;
  EXPECT_TRUE(contains(without.err, "token")) << without.err;
  EXPECT_EQ(lines_of(without.err).size(), 1u) << without.err;
}

// ---- no daemon, bad usage -------------------------------------------------------------

TEST_F(DaemonCliTest, NoDaemonRunningExitsOneWithAOneLineMessage) {
  const int port = free_port();
  ASSERT_NE(port, 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  const std::vector<std::vector<std::string>> commands = {
      {"jobs"},
      {"status"},
      {"add", "http://127.0.0.1:1/model.bin"},
      {"pause", "0b0e4b8e-6c1f-4d2a-9a51-1f6f7a2b3c4d"},
      {"resume", "0b0e"},
      {"cancel", "--all"},
      {"cancel", "--path", "/tmp/x"},
  };
  for (const auto& args : commands) {
    for (bool by_env : {false, true}) {
      std::vector<std::string> full = args;
      std::vector<std::string> env;
      if (by_env) {
        env.push_back("HAUL_SERVER=" + url);
      } else {
        full.push_back("--server");
        full.push_back(url);
      }
      const auto outcome = run_haul(full, env);
      const std::string shown = ::testing::PrintToString(args);
      EXPECT_EQ(outcome.exit_code, 1) << shown << ": " << outcome.err;
      EXPECT_EQ(lines_of(outcome.err).size(), 1u) << shown << ": " << outcome.err;
      EXPECT_TRUE(contains(outcome.err, "no haul daemon at " + url))
          << shown << ": " << outcome.err;
      EXPECT_LT(outcome.elapsed, std::chrono::seconds(5)) << shown;
    }
  }
}

TEST_F(DaemonCliTest, BadUsageExitsWithTwo) {
  const std::string server_flag = "http://127.0.0.1:" + std::to_string(free_port());
  const std::vector<std::vector<std::string>> cases = {
      {"frobnicate"},
      {"add"},
      {"add", "--priority", "high", "http://127.0.0.1/a"},
      {"add", "--bogus", "http://127.0.0.1/a"},
      {"jobs", "--format", "xml"},
      {"jobs", "--state"},
      {"pause"},
      {"resume"},
      {"retry"},
      {"cancel"},
      {"cancel", "0b0e4b8e", "--all"},
      {"cancel", "--path", "/tmp/x", "--all"},
      {"worker"},
      {"worker", "restart"},
      {"serve", "--listen", "nonsense"},
      {"serve", "--max-active", "0"},
  };
  for (const auto& args : cases) {
    std::vector<std::string> full = args;
    if (args[0] != "worker" && args[0] != "serve" && args[0] != "frobnicate") {
      full.push_back("--server");
      full.push_back(server_flag);
    }
    const auto outcome = run_haul(full, {"HAUL_DATA_DIR=" + (dir / "nodata").string()});
    EXPECT_EQ(outcome.exit_code, 2) << ::testing::PrintToString(full) << "\n" << outcome.err;
    EXPECT_FALSE(outcome.err.empty()) << ::testing::PrintToString(full);
  }
}

// Issue 10 item 15: a word haul does not know is named, with the command it
// probably meant, in one line.
TEST_F(DaemonCliTest, AMistypedCommandIsNamedWithWhatWasMeant) {
  const auto option = run_haul({"--status"});
  EXPECT_EQ(option.exit_code, 2);
  ASSERT_EQ(lines_of(option.err).size(), 1u) << option.err;
  EXPECT_TRUE(contains(option.err, "'--status'")) << option.err;
  EXPECT_TRUE(contains(option.err, "did you mean 'haul status'?")) << option.err;
  EXPECT_TRUE(contains(option.err, "haul --help")) << option.err;
  EXPECT_FALSE(contains(option.err, "A subcommand is required")) << option.err;

  const auto typo = run_haul({"stauts"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_TRUE(contains(typo.err, "'stauts' is not a haul command")) << typo.err;
  EXPECT_TRUE(contains(typo.err, "'haul status'")) << typo.err;

  const auto unknown = run_haul({"download", "http://127.0.0.1/x"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(contains(unknown.err, "'download' is not a haul command")) << unknown.err;
  EXPECT_TRUE(run_haul({"--help"}).exit_code == 0);
}

// ---- haul worker ------------------------------------------------------------------------

// `haul worker start` leaves the daemon orphaned. Where PID 1 does not reap
// orphans (some containers), a dead daemon would linger as a zombie that
// still answers kill(pid, 0); so this test adopts orphans and reaps the
// daemon itself.
class OrphanReaper {
 public:
  OrphanReaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }
  ~OrphanReaper() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  }
  void reap(pid_t pid) {
    thread_ = std::thread([this, pid] {
      while (!stop_) {
        if (::waitpid(pid, nullptr, WNOHANG) != 0) return;  // reaped, or not our child
        std::this_thread::sleep_for(milliseconds(20));
      }
    });
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

pid_t pid_in(const fs::path& pid_file) {
  std::istringstream in(read_file(pid_file));
  long pid = 0;
  in >> pid;
  return static_cast<pid_t>(pid);
}

TEST_F(DaemonCliTest, WorkerStartRunsTheDaemonAndStopEndsIt) {
  OrphanReaper reaper;
  server.add("/slow.bin", slow(random_bytes(600'000, 11)));
  const fs::path data = dir / "data";
  const int port = free_port();
  ASSERT_NE(port, 0);
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  const std::string url = "http://" + listen;
  const std::vector<std::string> where = {"--data-dir", data.string(), "--listen", listen};

  std::vector<std::string> start = {"worker", "start"};
  start.insert(start.end(), where.begin(), where.end());
  start.insert(start.end(), {"--", "--models-root", models().string(), "--retry-delay", "20ms"});
  fs::create_directories(models());
  const auto started = run_haul(start);
  ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
  EXPECT_TRUE(contains(started.out, "started")) << started.out;

  const fs::path pid_file = data / "haul.pid";
  ASSERT_TRUE(fs::exists(pid_file));
  const pid_t pid = pid_in(pid_file);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(::kill(pid, 0), 0);
  reaper.reap(pid);
  EXPECT_TRUE(contains(started.out, std::to_string(pid))) << started.out;
  EXPECT_EQ(http_call("GET", url + "/healthz").status, 200);
  const auto status = run_haul({"status", "--server", url});
  EXPECT_EQ(status.exit_code, 0) << status.err;

  // A second start finds it running.
  const auto twice = run_haul(start);
  EXPECT_EQ(twice.exit_code, 0) << twice.err;
  EXPECT_TRUE(contains(twice.out, "already running")) << twice.out;
  EXPECT_EQ(pid_in(pid_file), pid);

  // A download in progress when it stops resumes at the next start.
  const auto added = run_haul({"add", server.url("/slow.bin"), "--server", url});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const std::string id = first_word(added.out);
  ASSERT_TRUE(eventually([&] {
    const json job = http_call("GET", url + "/api/v1/jobs/" + id).json();
    return job.value("state", "") == "running" && job.value("bytes_done", 0) > 0;
  }));

  std::vector<std::string> stop = {"worker", "stop"};
  stop.insert(stop.end(), where.begin(), where.end());
  const auto stopped = run_haul(stop);
  ASSERT_EQ(stopped.exit_code, 0) << stopped.out << stopped.err;
  EXPECT_TRUE(contains(stopped.out, "stopped")) << stopped.out;
  EXPECT_LT(stopped.elapsed, std::chrono::seconds(10));
  EXPECT_NE(::kill(pid, 0), 0) << "the daemon is still there";
  EXPECT_FALSE(fs::exists(pid_file));
  EXPECT_EQ(http_call("GET", url + "/healthz").status, 0);

  const auto again = run_haul(stop);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(contains(again.out, "no daemon")) << again.out;

  auto daemon = start_daemon();  // same data directory
  const json job = daemon->job(id);
  EXPECT_TRUE(job["state"] == "queued" || job["state"] == "running") << job.dump();
}

TEST_F(DaemonCliTest, WorkerStopForceCancelsDownloadsFirst) {
  OrphanReaper reaper;
  server.add("/slow.bin", slow(random_bytes(600'000, 12)));
  const fs::path data = dir / "data";
  const int port = free_port();
  ASSERT_NE(port, 0);
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  const std::string url = "http://" + listen;
  fs::create_directories(models());
  const auto started = run_haul({"worker", "start", "--data-dir", data.string(), "--listen", listen,
                                 "--", "--models-root", models().string()});
  ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
  const pid_t pid = pid_in(data / "haul.pid");
  ASSERT_GT(pid, 0);
  reaper.reap(pid);

  const auto added = run_haul({"add", server.url("/slow.bin"), "--server", url});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const std::string id = first_word(added.out);
  std::string part;
  ASSERT_TRUE(eventually([&] {
    const json job = http_call("GET", url + "/api/v1/jobs/" + id).json();
    if (job.value("state", "") != "running" || !job["items"][0]["path"].is_string()) return false;
    part = job["items"][0]["path"].get<std::string>() + ".part";
    return fs::exists(part);
  }));

  const auto stopped =
      run_haul({"worker", "stop", "--force", "--data-dir", data.string(), "--listen", listen});
  ASSERT_EQ(stopped.exit_code, 0) << stopped.out << stopped.err;
  EXPECT_LT(stopped.elapsed, std::chrono::seconds(10));
  EXPECT_NE(::kill(pid, 0), 0);
  EXPECT_FALSE(fs::exists(part));

  auto daemon = start_daemon();
  EXPECT_EQ(daemon->job(id)["state"], "cancelled");
}

}  // namespace
}  // namespace haul::testing
