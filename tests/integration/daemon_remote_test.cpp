// Remote instances end to end: a real sshd on 127.0.0.1 is the "GPU
// instance"; resource cards run there with the real wget and curl against the
// test HTTP server (and a civitdl stand-in), driven through seed 000's
// /downloads routes and seed 001's /resources/install with socket.io-client.
#include <signal.h>

#include <fstream>
#include <thread>

#include "remote_fixture.hpp"

namespace haul::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

TEST_F(DaemonRemoteTest,
       SeedQueueRunsCardsOverSshWithWgetCurlAria2cAndStatusShowsProgressThenComplete) {
  auto daemon = start();
  const json body = {{"instance_id", 123456},
                     {"ssh_connection", sshd.ssh_command() + " -L 8080:localhost:8080"},
                     {"resource_paths",
                      {"loras/wan21_fusionx.md", "checkpoints/flux_schnell.md", "vae/wan_vae.md"}},
                     {"ui_home", ui_home().string()}};
  const HttpReply queued = daemon->call("POST", "/downloads/queue", body.dump());
  ASSERT_EQ(queued.status, 201) << queued.body;
  const json entry = queued.json();
  EXPECT_EQ(entry.at("instance_id"), 123456);
  EXPECT_EQ(entry.at("status"), "PENDING");
  EXPECT_EQ(entry.at("commands").size(), 3u);
  EXPECT_TRUE(contains(entry.at("commands")[0].get<std::string>(), "wget -P \"$UI_HOME\""))
      << "continuation lines joined: " << entry.dump();

  bool saw_progress = false;
  json last;
  ASSERT_TRUE(eventually(
      [&] {
        last = status_of(*daemon, "123456");
        if (!last.is_array() || last.size() != 1) return false;
        const json& job = last[0];
        if (job.at("status") == "RUNNING" && job.at("progress").at("percent").get<double>() > 0 &&
            job.at("progress").at("percent").get<double>() < 100)
          saw_progress = true;
        return job.at("status") == "COMPLETE" || job.at("status") == "FAILED";
      },
      std::chrono::seconds(60), std::chrono::milliseconds(50)))
      << last.dump();
  ASSERT_EQ(last[0].at("status"), "COMPLETE") << last.dump();
  EXPECT_TRUE(saw_progress) << "RUNNING with a percentage was never seen";
  EXPECT_EQ(read_file(ui_home() / "models/loras/fusionx.safetensors"), lora);
  EXPECT_EQ(read_file(ui_home() / "models/checkpoints/flux.safetensors"), checkpoint);
  EXPECT_EQ(read_file(ui_home() / "models/vae/wan_vae.safetensors"), vae);
  EXPECT_TRUE(status_of(*daemon, "999").empty()) << "another instance has no jobs";

  const json instances = daemon->call("GET", "/api/v1/instances").json();
  ASSERT_EQ(instances.at("instances").size(), 1u);
  EXPECT_EQ(instances.at("instances")[0].at("port"), sshd.port());
  const json cards = daemon->call("GET", "/api/v1/resources").json();
  EXPECT_EQ(cards.at("resources").size(), 8u);
}

TEST_F(DaemonRemoteTest, ResourcesInstallStreamsEventsToTheSeedsSocketIoClient) {
  const fs::path node_dir = fs::path(HAUL_SOURCE_DIR) / "tests" / "node";
  if (!fs::exists(node_dir / "node_modules" / "socket.io-client"))
    GTEST_SKIP() << "tests/node/node_modules is missing: run ./dev test (it runs npm ci)";
  auto daemon = start();
  // /resources/install names host and port only: the instance it registers
  // logs in as root with the default keys, so register its key first.
  const std::string id = "127.0.0.1:" + std::to_string(sshd.port());
  const HttpReply registered = daemon->call(
      "POST", "/api/v1/instances",
      json{{"id", id}, {"ssh_command", sshd.ssh_command()}, {"ui_home", ui_home().string()}}
          .dump());
  ASSERT_EQ(registered.status, 201) << registered.body;
  const json body = {{"ssh_host", "127.0.0.1"},
                     {"ssh_port", sshd.port()},
                     {"ssh_user", sshd.user()},
                     {"ui_home", ui_home().string()},
                     {"resources", {"checkpoints/flux_schnell.md", "loras/wan21_fusionx.md"}}};
  HaulProcess node(
      {"node", (node_dir / "resources_install.mjs").string(), daemon->url(), body.dump()}, {},
      "/usr/bin/env");
  const auto outcome = node.wait(std::chrono::seconds(90));
  ASSERT_EQ(outcome.exit_code, 0) << outcome.out << outcome.err;
  std::vector<json> events;
  for (const std::string& line : lines_of(outcome.out)) events.push_back(json::parse(line));
  ASSERT_GE(events.size(), 4u) << outcome.out;
  EXPECT_EQ(events[0].at("event"), "install");
  EXPECT_EQ(events[0].at("data").at("success"), true);
  EXPECT_EQ(events[0].at("data").at("message"), "Installation started");
  EXPECT_EQ(events[0].at("data").at("resource_count"), 2);
  EXPECT_EQ(events[1].at("event"), "subscribed");
  const std::string job_id = events[0].at("data").at("job_id");
  EXPECT_EQ(events[1].at("data").at("job_id"), job_id);

  // The LoRA card runs second: its stage_start, progress, stage_complete, in order.
  std::vector<std::string> lora_types;
  for (const json& event : events) {
    if (event.at("event") != "resource_install_progress") continue;
    const json& data = event.at("data");
    EXPECT_EQ(data.at("job_id"), job_id);
    if (data.at("resource") != "loras/wan21_fusionx.md") continue;
    const std::string type = data.at("type");
    if (lora_types.empty() || lora_types.back() != type) lora_types.push_back(type);
    if (type == "stage_start") EXPECT_EQ(data.at("name"), "Wan 2.1 FusionX");
    if (type == "progress") {
      EXPECT_GE(data.at("percent").get<int>(), 0);
      EXPECT_LE(data.at("percent").get<int>(), 100);
      EXPECT_TRUE(data.contains("speed")) << data.dump();
    }
  }
  EXPECT_EQ(lora_types, (std::vector<std::string>{"stage_start", "progress", "stage_complete"}))
      << outcome.out;
  const json& last = events.back();
  ASSERT_EQ(last.at("event"), "resource_install_complete") << outcome.out;
  EXPECT_EQ(last.at("data").at("success"), true);
  EXPECT_EQ(last.at("data").at("installed"), 2);
  EXPECT_EQ(last.at("data").at("total"), 2);
  EXPECT_EQ(read_file(ui_home() / "models/loras/fusionx.safetensors"), lora);
}

TEST_F(DaemonRemoteTest, CivitdlOutputBecomesModelProgressAndItsFailuresAreCaught) {
  auto daemon = start();
  json body = {{"instance_id", 11},
               {"ssh_connection", sshd.ssh_command()},
               {"resource_paths", {"loras/civit_lora.md"}},
               {"ui_home", ui_home().string()}};
  json entry = daemon->call("POST", "/downloads/queue", body.dump()).json();
  bool saw_model_stage = false;
  json job;
  ASSERT_TRUE(eventually(
      [&] {
        job = status_of(*daemon, "11")[0];
        if (job.at("progress").at("stage") == "model") saw_model_stage = true;
        return job.at("status") == "COMPLETE" || job.at("status") == "FAILED";
      },
      std::chrono::seconds(60), std::chrono::milliseconds(20)))
      << job.dump();
  ASSERT_EQ(job.at("status"), "COMPLETE") << job.dump();
  EXPECT_TRUE(saw_model_stage) << "the Model bar was never parsed";
  bool wrote = false;
  for (const auto& file : fs::directory_iterator(ui_home() / "models/loras"))
    wrote = wrote ||
            file.path().filename().string().find("-mid_1678575-vid_1900322") != std::string::npos;
  EXPECT_TRUE(wrote);

  // Real civitdl exits 0 after giving up on a model: the job still fails.
  body["resource_paths"] = {"loras/civit_locked.md"};
  entry = daemon->call("POST", "/downloads/queue", body.dump()).json();
  const json failed = daemon->wait_for_state(entry.at("id"), "failed", std::chrono::seconds(60));
  ASSERT_EQ(failed.at("state"), "failed") << failed.dump();
  EXPECT_TRUE(contains(failed.at("error").at("message").get<std::string>(), "API Key"))
      << failed.dump();
}

TEST_F(DaemonRemoteTest, HaulInstancesAddAndInstallDriveTheSameFlow) {
  auto daemon = start();
  const auto added = run_haul({"instances", "add", "gpu1", sshd.ssh_command(), "--ui-home",
                               ui_home().string(), "--server", daemon->url()});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_TRUE(contains(added.out, "gpu1")) << added.out;
  const auto bad =
      run_haul({"instances", "add", "gpu2", "ssh -p notaport root@h", "--server", daemon->url()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(contains(bad.err, "port")) << bad.err;

  const auto install = run_haul(
      {"install", "--to", "gpu1", "checkpoints/flux_schnell.md", "--server", daemon->url()});
  ASSERT_EQ(install.exit_code, 0) << install.err;
  const std::string id = install.out.substr(0, install.out.find(' '));
  const json job = daemon->wait_for_state(id, "completed", std::chrono::seconds(60));
  ASSERT_EQ(job.at("state"), "completed") << job.dump();
  EXPECT_EQ(job.at("target"), "gpu1");
  EXPECT_EQ(read_file(ui_home() / "models/checkpoints/flux.safetensors"), checkpoint);
  const auto listed = run_haul({"instances", "--server", daemon->url()});
  EXPECT_TRUE(contains(listed.out, "gpu1")) << listed.out;
  // The web UI's reachability check: a real login on the test sshd.
  const json check = daemon->call("POST", "/api/v1/instances/gpu1/check").json();
  EXPECT_TRUE(check.value("reachable", false)) << check.dump();
  EXPECT_TRUE(check.at("error").is_null()) << check.dump();
  const auto removed = run_haul({"instances", "rm", "gpu1", "--server", daemon->url()});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_TRUE(daemon->call("GET", "/api/v1/instances").json().at("instances").empty());
}

TEST_F(DaemonRemoteTest, AnInstanceBehindAJumpHostIsReachedThroughIt) {
  auto daemon = start();
  // The jump host is the test server itself, under another name.
  const std::string jump = sshd.user() + "@localhost:" + std::to_string(sshd.port());
  const HttpReply registered =
      daemon->call("POST", "/api/v1/instances",
                   json{{"id", "behind"},
                        {"ssh_command", sshd.ssh_command() + " -J " + jump},
                        {"ui_home", ui_home().string()}}
                       .dump());
  ASSERT_EQ(registered.status, 201) << registered.body;
  const json added =
      daemon->add({{"sources", {"checkpoints/flux_schnell.md"}}, {"target", "behind"}});
  const json job = daemon->wait_for_state(added.at("id"), "completed", std::chrono::seconds(60));
  ASSERT_EQ(job.at("state"), "completed") << job.dump();
  EXPECT_EQ(read_file(ui_home() / "models/checkpoints/flux.safetensors"), checkpoint);
  const std::string log = sshd.log();
  std::size_t logins = 0;
  for (auto at = log.find("Accepted publickey"); at != std::string::npos;
       at = log.find("Accepted publickey", at + 1))
    ++logins;
  EXPECT_EQ(logins, 2u) << "the jump host and the instance: " << log;

  const HttpReply bad =
      daemon->call("POST", "/api/v1/instances",
                   json{{"id", "bad"}, {"ssh_command", sshd.ssh_command() + " -J 'a b'"}}.dump());
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_TRUE(contains(bad.body, "bad jump host")) << bad.body;
}

TEST_F(DaemonRemoteTest, AKilledDaemonReattachesToTheRunningCommandWhenItComesBack) {
  restart_while_running(SIGKILL);
}

TEST_F(DaemonRemoteTest, AStoppedDaemonLeavesTheCommandRunningAndReattaches) {
  restart_while_running(SIGTERM);
}

TEST_F(DaemonRemoteTest, AFailingCommandFailsTheJobWithTheToolsReason) {
  auto daemon = start();
  const json body = {{"instance_id", 7},
                     {"ssh_connection", sshd.ssh_command()},
                     {"resource_paths", {"loras/missing.md"}},
                     {"ui_home", ui_home().string()}};
  const json entry = daemon->call("POST", "/downloads/queue", body.dump()).json();
  const json job = daemon->wait_for_state(entry.at("id"), "failed", std::chrono::seconds(60));
  ASSERT_EQ(job.at("state"), "failed") << job.dump();
  const std::string message = job.at("error").at("message");
  EXPECT_TRUE(contains(message, "404")) << message;
  EXPECT_TRUE(contains(message, "exited with status 8")) << "wget's exit code: " << message;
  EXPECT_EQ(job.at("error").at("stage"), "command 1 of 1") << job.dump();
  EXPECT_EQ(job.at("error").at("file"), "loras/missing.md") << job.dump();
  EXPECT_EQ(status_of(*daemon, "7")[0].at("status"), "FAILED");

  // Issue 16: what wget printed before it failed is kept with the job.
  const json with_output =
      daemon->call("GET", "/api/v1/jobs/" + std::string(entry.at("id")) + "?output=1").json();
  const std::string tail = with_output.at("items").at(0).at("output_tail");
  EXPECT_TRUE(contains(tail, "Connecting to 127.0.0.1")) << tail;
  EXPECT_TRUE(contains(tail, "404")) << tail;
  EXPECT_FALSE(contains(tail, "\x1b")) << "colours stripped";
  EXPECT_FALSE(daemon->job(entry.at("id")).at("items").at(0).contains("output_tail"))
      << "only when asked for";
  const HttpReply text =
      daemon->call("GET", "/api/v1/jobs/" + std::string(entry.at("id")) + "/output");
  EXPECT_EQ(text.status, 200);
  EXPECT_EQ(text.headers.at("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(text.body, tail.ends_with('\n') ? tail : tail + "\n");
  const auto logs =
      run_haul({"logs", std::string(entry.at("id")).substr(0, 8), "--server", daemon->url()});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_EQ(logs.out, text.body);
}

// Issue 16: `haul logs -f` follows a running command's output until it ends.
TEST_F(DaemonRemoteTest, LogsFollowARunningCommand) {
  card("misc/chatty.md", "Chatty", "for i in 1 2 3 4 5 6; do echo \"step $i\"; sleep 0.4; done");
  auto daemon = start();
  const HttpReply registered = daemon->call(
      "POST", "/api/v1/instances",
      json{{"id", "gpu1"}, {"ssh_command", sshd.ssh_command()}, {"ui_home", ui_home().string()}}
          .dump());
  ASSERT_EQ(registered.status, 201) << registered.body;
  const json added = daemon->add({{"sources", {"misc/chatty.md"}}, {"target", "gpu1"}});
  const std::string id = added.at("id");
  const auto followed = run_haul({"logs", "-f", id, "--server", daemon->url()});
  ASSERT_EQ(followed.exit_code, 0) << followed.err;
  const json done = daemon->job(id);
  EXPECT_EQ(done.at("state"), "completed") << "-f returns when the job ends: " << done.dump();
  for (int i = 1; i <= 6; ++i)
    EXPECT_TRUE(contains(followed.out, "step " + std::to_string(i))) << followed.out;
  EXPECT_EQ(lines_of(followed.out).size(), 6u) << followed.out;
}

TEST_F(DaemonRemoteTest, CancelKillsTheRemoteProcess) {
  auto daemon = start();
  const json body = {{"instance_id", 8},
                     {"ssh_connection", sshd.ssh_command()},
                     {"resource_paths", {"misc/sleeper.md"}},
                     {"ui_home", ui_home().string()}};
  const json entry = daemon->call("POST", "/downloads/queue", body.dump()).json();
  const std::string id = entry.at("id");
  auto sleeping = [] { return std::system("pgrep -f 'sleep [3]017' >/dev/null") == 0; };
  ASSERT_TRUE(eventually(sleeping, std::chrono::seconds(30))) << "the command never started";
  // Issue 10 item 13: killing the remote command takes seconds; the API
  // answers at once (202) and the outcome follows.
  const auto asked = std::chrono::steady_clock::now();
  const HttpReply cancelled = daemon->call("POST", "/api/v1/jobs/" + id + "/cancel");
  EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::seconds(1));
  EXPECT_EQ(cancelled.status, 202) << cancelled.body;
  EXPECT_EQ(cancelled.json().at("pending_action"), "cancel");
  const json job = daemon->wait_for_state(id, "cancelled", std::chrono::seconds(20));
  for (const json& item : job.at("items")) EXPECT_EQ(item.at("state"), "cancelled");
  EXPECT_TRUE(eventually([&] { return !sleeping(); }, std::chrono::seconds(10)))
      << "the remote sleep survived the cancel";
  EXPECT_FALSE(fs::exists(ui_home() / "woke"));
}

TEST_F(DaemonRemoteTest, AnUnreachableInstanceFailsWithAClearError) {
  auto daemon = start_daemon({"--library", library().string(), "--known-hosts",
                              sshd.known_hosts().string(), "--max-attempts", "2"});
  const int port = sshd.port();
  sshd.stop();
  const json body = {{"instance_id", 9},
                     {"ssh_connection", "ssh -p " + std::to_string(port) + " root@127.0.0.1"},
                     {"resource_paths", {"loras/wan21_fusionx.md"}}};
  const json entry = daemon->call("POST", "/downloads/queue", body.dump()).json();
  const json job = daemon->wait_for_state(entry.at("id"), "failed", std::chrono::seconds(60));
  ASSERT_EQ(job.at("state"), "failed") << job.dump();
  EXPECT_TRUE(contains(job.at("error").at("message").get<std::string>(), "refused")) << job.dump();
}

TEST_F(DaemonRemoteTest, ShellMetacharactersInUiHomeAndPathsDoNotExecute) {
  auto daemon = start();
  const fs::path odd = dir / "odd $(touch pwned1); touch pwned2 `touch pwned3` 'q\" home";
  fs::create_directories(odd);
  const json body = {{"instance_id", 10},
                     {"ssh_connection", sshd.ssh_command()},
                     {"resource_paths", {"checkpoints/flux_schnell.md"}},
                     {"ui_home", odd.string()}};
  const json entry = daemon->call("POST", "/downloads/queue", body.dump()).json();
  const json job = daemon->wait_for_state(entry.at("id"), "completed", std::chrono::seconds(60));
  ASSERT_EQ(job.at("state"), "completed") << job.dump();
  EXPECT_EQ(read_file(odd / "models/checkpoints/flux.safetensors"), checkpoint);
  for (const fs::path& root : {dir.path(), sshd.dir()}) {
    for (const auto& entry : fs::recursive_directory_iterator(root))
      EXPECT_NE(entry.path().filename().string().rfind("pwned", 0), 0u) << entry.path();
  }
  const HttpReply escape = daemon->call(
      "POST", "/downloads/queue",
      json{{"instance_id", 10}, {"resource_paths", {"../cards/loras/missing.md"}}}.dump());
  EXPECT_EQ(escape.status, 422) << escape.body;
}

}  // namespace
}  // namespace haul::testing
