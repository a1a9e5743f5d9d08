// Chaos on a shared queue (issue 15): three `haul serve` nodes on one real
// PostgreSQL, 30 jobs (local ones into a folder every node shares, and
// resource cards on an instance, the test sshd), and a random node killed
// with SIGKILL every 10 s, five times, each restarted once its leases have
// lapsed. Every job completes exactly once: one `complete` event each in
// the queue's event log, one final file with the right SHA-256, no remote
// command run twice in full (the test server's log), and no lease held by
// a dead node after lease + 5 s.
#include <gmock/gmock.h>
#include <signal.h>

#include <map>
#include <random>

#include "remote_fixture.hpp"
#include "support/postgres_cluster.hpp"

namespace haul::testing {
namespace {

constexpr int kNodes = 3;
constexpr int kLocalJobs = 24;
constexpr int kInstanceJobs = 6;
constexpr int kKills = 5;
constexpr auto kLease = std::chrono::seconds(3);

class DaemonChaosTest : public DaemonRemoteTest {
 protected:
  void SetUp() override {
    cluster_ = &PostgresCluster::shared();
    database_ = cluster_->create_database();
  }
  std::unique_ptr<Daemon> start_node(int index) {
    const std::string name = "node" + std::to_string(index);
    return std::make_unique<Daemon>(
        dir / ("data-" + name), models(),
        std::vector<std::string>{"--retry-delay", "20ms", "--store", cluster_->url(database_),
                                 "--node", name, "--lease", "3s", "--connections", "2", "--library",
                                 library().string(), "--known-hosts", sshd.known_hosts().string()});
  }
  // Live leases `node` holds, by the database's clock.
  int live_leases(const std::string& node) const {
    return std::stoi(cluster_->query(
        database_, "SELECT count(*) FROM jobs WHERE owner = '" + node +
                       "' AND lease_expires_at > (extract(epoch FROM clock_timestamp()) * "
                       "1000)::bigint"));
  }

  int unfinished_jobs() const {
    return std::stoi(cluster_->query(
        database_,
        "SELECT count(*) FROM jobs WHERE state NOT IN ('completed', 'failed', 'cancelled')"));
  }

  PostgresCluster* cluster_ = nullptr;
  std::string database_;
};

TEST_F(DaemonChaosTest, ThreeNodesKilledInTurnCompleteEveryJobExactlyOnce) {
  std::vector<std::unique_ptr<Daemon>> nodes;
  for (int i = 0; i < kNodes; ++i) nodes.push_back(start_node(i));
  const HttpReply registered = nodes[0]->call("POST", "/api/v1/instances",
                                              json{{"id", "gpu1"},
                                                   {"ssh_command", sshd.ssh_command()},
                                                   {"ui_home", ui_home().string()},
                                                   {"max_parallel", 3}}
                                                  .dump());
  ASSERT_EQ(registered.status, 201) << registered.body;

  // Each job takes seconds at the server's pace, so kills land mid-run.
  std::map<std::string, std::string> local_files;     // job id -> expected body
  std::map<std::string, std::string> instance_files;  // job id -> expected body
  std::map<std::string, std::string> paths;           // job id -> served path
  for (int i = 0; i < kLocalJobs; ++i) {
    const std::string path = "/chaos/local" + std::to_string(i) + ".bin";
    const std::string body = random_bytes(600'000, static_cast<std::uint32_t>(100 + i));
    server.add(path, {.body = body, .rate = 150'000});
    const std::string id = nodes[static_cast<std::size_t>(i % kNodes)]->add(
        {{"source", server.url(path)}, {"dest", "chaos"}, {"node", "any"}})["id"];
    local_files[id] = body;
    paths[id] = path;
  }
  for (int i = 0; i < kInstanceJobs; ++i) {
    const std::string path = "/chaos/remote" + std::to_string(i) + ".bin";
    const std::string body = random_bytes(800'000, static_cast<std::uint32_t>(200 + i));
    server.add(path, {.body = body, .rate = 150'000});
    const std::string card_path = "chaos/remote" + std::to_string(i) + ".md";
    card(card_path, "Remote " + std::to_string(i),
         "wget -P \"$UI_HOME\"/models/chaos " + server.url(path));
    const std::string id = nodes[static_cast<std::size_t>(i % kNodes)]->add(
        {{"sources", {card_path}}, {"target", "gpu1"}})["id"];
    instance_files[id] = body;
    paths[id] = path;
  }

  std::mt19937 random(20261207);
  auto last_kill = std::chrono::steady_clock::now();
  for (int kill = 0; kill < kKills; ++kill) {
    const int victim = static_cast<int>(random() % kNodes);
    const std::string name = "node" + std::to_string(victim);
    // Every 10 s, and at a moment the victim runs something (once every job
    // is done, any moment does).
    ASSERT_TRUE(eventually(
        [&] {
          return std::chrono::steady_clock::now() - last_kill >= std::chrono::seconds(10) &&
                 (live_leases(name) > 0 || unfinished_jobs() == 0);
        },
        std::chrono::seconds(60), std::chrono::milliseconds(50)))
        << name << " never ran a job";
    last_kill = std::chrono::steady_clock::now();
    nodes[static_cast<std::size_t>(victim)]->kill(SIGKILL);
    nodes[static_cast<std::size_t>(victim)].reset();
    const auto killed_at = std::chrono::steady_clock::now();
    // Its leases lapse within the lease (nobody renews them), and the jobs
    // are taken over by the living.
    EXPECT_TRUE(eventually([&] { return live_leases(name) == 0; }, kLease + std::chrono::seconds(5),
                           std::chrono::milliseconds(100)))
        << name << " still holds leases after lease + 5 s";
    EXPECT_LE(std::chrono::steady_clock::now() - killed_at, kLease + std::chrono::seconds(5));
    nodes[static_cast<std::size_t>(victim)] = start_node(victim);
  }

  for (const auto& [id, body] : local_files)
    EXPECT_EQ(nodes[0]->wait_for_state(id, "completed", std::chrono::seconds(120))["state"],
              "completed")
        << id;
  for (const auto& [id, body] : instance_files)
    EXPECT_EQ(nodes[0]->wait_for_state(id, "completed", std::chrono::seconds(120))["state"],
              "completed")
        << id;

  // One final file each, with the right SHA-256.
  for (const auto& [id, body] : local_files) {
    const std::string name = paths[id].substr(paths[id].rfind('/') + 1);
    EXPECT_EQ(sha256_of(read_file(models() / "chaos" / name)), sha256_of(body)) << name;
  }
  for (const auto& [id, body] : instance_files) {
    const std::string name = paths[id].substr(paths[id].rfind('/') + 1);
    EXPECT_EQ(sha256_of(read_file(ui_home() / "models/chaos" / name)), sha256_of(body)) << name;
    EXPECT_FALSE(fs::exists(ui_home() / "models/chaos" / (name + ".1"))) << "wget ran twice";
    // A command run again in full would have fetched the whole file again.
    int full_fetches = 0;
    for (const RequestRecord& request : server.requests_for(paths[id]))
      full_fetches += request.method == "GET" && request.body_bytes == body.size() ? 1 : 0;
    EXPECT_EQ(full_fetches, 1) << paths[id];
  }
  // Exactly one `complete` event per job in the queue's event log, which
  // every node replays to SSE clients (Last-Event-ID).
  const std::string completes = cluster_->query(
      database_,
      "SELECT count(*) || ' ' || count(DISTINCT job_id) FROM events WHERE type = 'complete'");
  EXPECT_EQ(completes, std::to_string(kLocalJobs + kInstanceJobs) + " " +
                           std::to_string(kLocalJobs + kInstanceJobs));
  // Every node shows every job completed, and nobody holds a lease on them.
  for (const auto& node : nodes) {
    for (const auto& [id, body] : local_files) EXPECT_EQ(node->job(id)["state"], "completed");
  }
  EXPECT_EQ(cluster_->query(database_, "SELECT count(*) FROM jobs WHERE owner IS NOT NULL"), "0");
}

// The takeover of an instance job, alone: the node running a resource
// card's wget dies; another attaches to the command still running on the
// instance instead of running it again.
TEST_F(DaemonChaosTest, ANodeTakingOverAnInstanceJobAttachesToTheRunningCommand) {
  auto alpha = start_node(0);
  const HttpReply registered = alpha->call(
      "POST", "/api/v1/instances",
      json{{"id", "gpu1"}, {"ssh_command", sshd.ssh_command()}, {"ui_home", ui_home().string()}}
          .dump());
  ASSERT_EQ(registered.status, 201) << registered.body;
  const std::string id = alpha->add({{"sources", {"unet/slow.md"}}, {"target", "gpu1"}})["id"];
  ASSERT_TRUE(eventually([&] { return alpha->job(id)["progress"].get<double>() > 10; },
                         std::chrono::seconds(30), std::chrono::milliseconds(20)))
      << alpha->job(id).dump();
  auto beta = start_node(1);
  alpha->kill(SIGKILL);
  const json done = beta->wait_for_state(id, "completed", std::chrono::seconds(30));
  ASSERT_EQ(done["state"], "completed") << done.dump() << beta->log();
  EXPECT_THAT(beta->log(), ::testing::HasSubstr("taking the run over"));
  EXPECT_EQ(read_file(ui_home() / "models/unet/slow.safetensors"), slow_model);
  EXPECT_FALSE(fs::exists(ui_home() / "models/unet/slow.safetensors.1")) << "wget ran twice";
  EXPECT_EQ(server.requests_for("/files/slow.safetensors").size(), 1u);
}

}  // namespace
}  // namespace haul::testing
