// What a client of remote jobs sees (issue 10 items 16, 17, 20, 22, 23): the
// seed 001 Socket.IO client in its own order, a slow subscriber, attempts
// that fail while an instance is down, UI_HOME per request, and instances
// that say when they were last used and can be pruned.
#include <map>
#include <regex>
#include <thread>

#include "remote_fixture.hpp"

namespace haul::testing {
namespace {

using json = nlohmann::json;

class DaemonRemoteEventsTest : public DaemonRemoteTest {
 protected:
  fs::path node_dir() const { return fs::path(HAUL_SOURCE_DIR) / "tests" / "node"; }
  bool have_node_packages() const {
    return fs::exists(node_dir() / "node_modules" / "socket.io-client");
  }

  // Seed 001's client: POST /resources/install, then subscribe_install
  // (after `delay_ms`); every event it received, in order.
  std::vector<json> install_events(const Daemon& daemon, const json& body, int delay_ms = 0) {
    HaulProcess node({"node", (node_dir() / "resources_install.mjs").string(), daemon.url(),
                      body.dump(), std::to_string(delay_ms)},
                     {}, "/usr/bin/env");
    const auto outcome = node.wait(std::chrono::seconds(120));
    EXPECT_EQ(outcome.exit_code, 0) << outcome.out << outcome.err;
    std::vector<json> events;
    for (const std::string& line : lines_of(outcome.out)) events.push_back(json::parse(line));
    return events;
  }

  json install_body(int port) const {
    return {{"ssh_host", "127.0.0.1"},
            {"ssh_port", port},
            {"ssh_user", sshd.user()},
            {"ui_home", ui_home().string()},
            {"resources", {"checkpoints/flux_schnell.md", "loras/wan21_fusionx.md"}}};
  }

  // /resources/install names host and port only: register the key's instance first.
  void register_installer(const Daemon& daemon) const {
    const HttpReply registered =
        daemon.call("POST", "/api/v1/instances",
                    json{{"id", "127.0.0.1:" + std::to_string(sshd.port())},
                         {"ssh_command", sshd.ssh_command()},
                         {"ui_home", ui_home().string()}}
                        .dump());
    ASSERT_EQ(registered.status, 201) << registered.body;
  }

  // Each card's events collapsed to their kinds ("stage_start", "progress",
  // "stage_complete"), in order, with a check that none came twice.
  static std::map<std::string, std::vector<std::string>> stages_by_card(
      const std::vector<json>& events) {
    std::map<std::string, std::vector<std::string>> stages;
    for (const json& event : events) {
      if (event.at("event") != "resource_install_progress") continue;
      const json& data = event.at("data");
      auto& kinds = stages[data.at("resource")];
      const std::string type = data.at("type");
      if (kinds.empty() || kinds.back() != type) kinds.push_back(type);
    }
    return stages;
  }

  // Every card in order, each framed by exactly one stage_start and one
  // stage_complete, and the installation's end last.
  void expect_whole_install(const std::vector<json>& events) {
    ASSERT_GE(events.size(), 4u);
    EXPECT_EQ(events[1].at("event"), "subscribed");
    std::vector<std::string> starts;
    for (const json& event : events) {
      if (event.at("event") == "resource_install_progress" &&
          event.at("data").at("type") == "stage_start")
        starts.push_back(event.at("data").at("resource"));
    }
    EXPECT_EQ(starts,
              (std::vector<std::string>{"checkpoints/flux_schnell.md", "loras/wan21_fusionx.md"}))
        << "each card starts once, in order";
    const auto stages = stages_by_card(events);
    for (const auto& [card, kinds] : stages) {
      ASSERT_FALSE(kinds.empty());
      EXPECT_EQ(kinds.front(), "stage_start") << card;
      EXPECT_EQ(kinds.back(), "stage_complete") << card;
      EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "stage_complete"), 1) << card;
    }
    EXPECT_EQ(stages.at("loras/wan21_fusionx.md"),
              (std::vector<std::string>{"stage_start", "progress", "stage_complete"}));
    EXPECT_EQ(events.back().at("event"), "resource_install_complete");
    EXPECT_EQ(events.back().at("data").at("installed"), 2);
  }
};

// Item 16: seed 001's order (POST, then subscribe) misses nothing; item 17:
// progress carries seed 001's whole shape, elapsed included.
TEST_F(DaemonRemoteEventsTest, TheSeedsClientGetsEveryEventFromTheStartInOrder) {
  if (!have_node_packages()) GTEST_SKIP() << "tests/node/node_modules is missing: ./dev test";
  auto daemon = start();
  register_installer(*daemon);
  const auto events = install_events(*daemon, install_body(sshd.port()));
  expect_whole_install(events);
  int progress = 0;
  for (const json& event : events) {
    const json& data = event.at("data");
    if (event.at("event") != "resource_install_progress" || data.at("type") != "progress") continue;
    ++progress;
    for (const char* key : {"stage", "percent", "downloaded", "total", "elapsed", "remaining",
                            "speed", "resource", "job_id"})
      EXPECT_TRUE(data.contains(key)) << key << " missing in " << data.dump() << "\n"
                                      << event.dump();
    EXPECT_TRUE(std::regex_match(data.value("elapsed", ""), std::regex(R"(\d\d:\d\d)")))
        << data.dump();
  }
  EXPECT_GT(progress, 0);
}

TEST_F(DaemonRemoteEventsTest, ASubscriberThatComesLateGetsTheJobsEventsSoFarThenTheRest) {
  if (!have_node_packages()) GTEST_SKIP() << "tests/node/node_modules is missing: ./dev test";
  auto daemon = start();
  register_installer(*daemon);
  // Subscribing 2.5 s after the answer: the checkpoint card is long done, the
  // LoRA (1.5 s at 2 MiB/s) is under way or done.
  const auto events = install_events(*daemon, install_body(sshd.port()), 2500);
  expect_whole_install(events);
}

// Item 22: while an instance is down, each failed attempt is reported as it
// happens, to seed 001's client and on /downloads/status.
TEST_F(DaemonRemoteEventsTest, EachFailedAttemptIsReportedWithTheNextRetryTime) {
  if (!have_node_packages()) GTEST_SKIP() << "tests/node/node_modules is missing: ./dev test";
  auto daemon =
      start_daemon({"--library", library().string(), "--known-hosts", sshd.known_hosts().string(),
                    "--max-attempts", "3", "--retry-delay", "300ms"});
  register_installer(*daemon);
  const int port = sshd.port();
  sshd.stop();
  const auto events = install_events(*daemon, install_body(port));
  std::vector<json> retries;
  for (const json& event : events) {
    if (event.at("event") == "resource_install_progress" &&
        event.at("data").at("type") == "retrying")
      retries.push_back(event.at("data"));
  }
  ASSERT_EQ(retries.size(), 2u) << "attempts 1 and 2 failed and were retried";
  for (std::size_t i = 0; i < retries.size(); ++i) {
    EXPECT_EQ(retries[i].at("attempt"), i + 1) << retries[i].dump();
    EXPECT_EQ(retries[i].at("max_attempts"), 3);
    EXPECT_TRUE(contains(retries[i].at("error").get<std::string>(), "refused"))
        << retries[i].dump();
    EXPECT_TRUE(retries[i].at("next_retry_at").is_string()) << retries[i].dump();
  }
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().at("event"), "resource_install_error");
  EXPECT_TRUE(contains(events.back().at("data").at("error").get<std::string>(), "refused"));
  const json status = status_of(*daemon, "127.0.0.1:" + std::to_string(port));
  ASSERT_EQ(status.size(), 1u) << status.dump();
  EXPECT_EQ(status[0].at("status"), "FAILED");
  EXPECT_EQ(status[0].at("attempt"), 3);
}

// Item 22: a refused key cannot change by waiting: the job fails at once.
TEST_F(DaemonRemoteEventsTest, ARefusedKeyFailsTheJobAtOnce) {
  auto daemon =
      start_daemon({"--library", library().string(), "--known-hosts", sshd.known_hosts().string(),
                    "--max-attempts", "5", "--retry-delay", "300ms"});
  const fs::path key = sshd.generate_unauthorised_key("stranger");
  const json body = {{"instance_id", 21},
                     {"ssh_connection", "ssh -p " + std::to_string(sshd.port()) + " " +
                                            sshd.user() + "@127.0.0.1 -i " + key.string()},
                     {"resource_paths", {"checkpoints/flux_schnell.md"}},
                     {"ui_home", ui_home().string()}};
  const HttpReply queued = daemon->call("POST", "/downloads/queue", body.dump());
  ASSERT_EQ(queued.status, 201) << queued.body;
  const json job =
      daemon->wait_for_state(queued.json().at("id"), "failed", std::chrono::seconds(60));
  ASSERT_EQ(job.at("state"), "failed") << job.dump();
  EXPECT_EQ(job.at("attempts"), 1) << "no retry for a refused key: " << job.dump();
  EXPECT_EQ(job.at("error").at("code"), "permission_denied") << job.dump();
}

// Item 20: UI_HOME belongs to each request; the instance's is a default.
TEST_F(DaemonRemoteEventsTest, EachRequestsUiHomeIsItsJobsAndTheInstanceKeepsItsOwn) {
  auto daemon = start();
  std::vector<fs::path> homes = {dir / "home A", dir / "home B", dir / "home C"};
  std::vector<std::string> ids;
  for (const fs::path& home : homes) {
    fs::create_directories(home);
    const json body = {{"instance_id", 77},
                       {"ssh_connection", sshd.ssh_command()},
                       {"resource_paths", {"checkpoints/flux_schnell.md"}},
                       {"ui_home", home.string()}};
    const HttpReply queued = daemon->call("POST", "/downloads/queue", body.dump());
    ASSERT_EQ(queued.status, 201) << queued.body;
    EXPECT_EQ(queued.json().at("ui_home"), home.string());
    ids.push_back(queued.json().at("id"));
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const json done = daemon->wait_for_state(ids[i], "completed", std::chrono::seconds(60));
    ASSERT_EQ(done.at("state"), "completed") << done.dump();
    EXPECT_EQ(done.at("dest"), homes[i].string());
    EXPECT_EQ(read_file(homes[i] / "models/checkpoints/flux.safetensors"), checkpoint) << homes[i];
  }
  const json instances = daemon->call("GET", "/api/v1/instances").json().at("instances");
  ASSERT_EQ(instances.size(), 1u);
  EXPECT_EQ(instances[0].at("ui_home"), homes[0].string()) << "registered by the first request";
}

// Item 23: instances registered on the way say when they were last used, and
// the unused ones can be pruned (never one with unfinished jobs).
TEST_F(DaemonRemoteEventsTest, InstancesShowWhenTheyWereLastUsedAndUnusedOnesArePruned) {
  auto daemon = start();
  auto put = [&](const std::string& id) {
    const HttpReply reply = daemon->call(
        "POST", "/api/v1/instances",
        json{{"id", id}, {"ssh_command", sshd.ssh_command()}, {"ui_home", ui_home().string()}}
            .dump());
    ASSERT_EQ(reply.status, 201) << reply.body;
  };
  put("used");
  put("idle");
  put("busy");
  const json done = daemon->add({{"sources", {"checkpoints/flux_schnell.md"}}, {"target", "used"}});
  daemon->wait_for_state(done.at("id"), "completed", std::chrono::seconds(60));
  const json busy = daemon->add({{"sources", {"misc/sleeper.md"}}, {"target", "busy"}});
  daemon->wait_for_state(busy.at("id"), "running", std::chrono::seconds(60));

  std::map<std::string, json> by_id;
  const json listed_instances = daemon->call("GET", "/api/v1/instances").json();
  for (const json& instance : listed_instances.at("instances")) by_id[instance.at("id")] = instance;
  EXPECT_TRUE(by_id.at("used").at("last_used_at").is_string()) << by_id.at("used").dump();
  EXPECT_TRUE(by_id.at("idle").at("last_used_at").is_null());

  // Nothing is a day old yet.
  HaulProcess::Outcome kept =
      run_haul({"instances", "prune", "--older-than", "1d", "--server", daemon->url()});
  EXPECT_EQ(kept.exit_code, 0) << kept.err;
  EXPECT_EQ(daemon->call("GET", "/api/v1/instances").json().at("instances").size(), 3u);

  const HttpReply bad =
      daemon->call("POST", "/api/v1/instances/prune", json{{"older_than", "soon"}}.dump());
  EXPECT_EQ(bad.status, 422) << bad.body;

  const HaulProcess::Outcome pruned =
      run_haul({"instances", "prune", "--older-than", "0s", "--server", daemon->url()});
  EXPECT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_TRUE(contains(pruned.out, "removed used")) << pruned.out;
  EXPECT_TRUE(contains(pruned.out, "removed idle")) << pruned.out;
  const json left = daemon->call("GET", "/api/v1/instances").json().at("instances");
  ASSERT_EQ(left.size(), 1u) << left.dump();
  EXPECT_EQ(left[0].at("id"), "busy") << "an instance with a running job stays";

  const HaulProcess::Outcome listed = run_haul({"instances", "--server", daemon->url()});
  EXPECT_TRUE(contains(listed.out, "LAST USED")) << listed.out;
  EXPECT_EQ(daemon->act(busy.at("id"), "cancel").at("state"), "cancelled");
}

}  // namespace
}  // namespace haul::testing
