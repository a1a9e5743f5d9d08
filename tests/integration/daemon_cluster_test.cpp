// Several `haul serve` nodes on one PostgreSQL queue (issue 15), each a real
// process with its own data dir, against a real PostgreSQL 15 the tests
// start: two nodes claiming from one queue never run the same job (the test
// server's request log says so), every node shows every job live and can
// pause or cancel a job another node runs, and a killed node's jobs are
// taken over once its lease lapses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "daemon_fixture.hpp"
#include "harness.hpp"
#include "support/postgres_cluster.hpp"

namespace haul::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class DaemonClusterTest : public DaemonTest {
 protected:
  void SetUp() override {
    cluster_ = &PostgresCluster::shared();
    database_ = cluster_->create_database();
  }
  // A node on the shared queue, with its own data dir; the models folder is
  // shared, as on a shared filesystem.
  std::unique_ptr<Daemon> start_node(const std::string& name, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--retry-delay", "20ms", "--store", cluster_->url(database_),
                                     "--node",        name,   "--lease", "3s",
                                     "--connections", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<Daemon>(dir / ("data-" + name), models(), args);
  }
  // Full GET answers the test server gave for `path` (a job run once asks
  // once with one connection; a second run asks again).
  int gets_of(const std::string& path) const {
    int count = 0;
    for (const RequestRecord& request : server.requests_for(path))
      count += request.method == "GET" ? 1 : 0;
    return count;
  }

  PostgresCluster* cluster_ = nullptr;
  std::string database_;
};

TEST_F(DaemonClusterTest, TwoNodesClaimingFromOneQueueNeverRunTheSameJob) {
  auto alpha = start_node("alpha", {"--max-active", "2"});
  auto beta = start_node("beta", {"--max-active", "2"});
  constexpr int kJobs = 12;
  std::vector<std::string> ids;
  std::map<std::string, std::string> bodies;
  for (int i = 0; i < kJobs; ++i) {
    const std::string path = "/shared/file" + std::to_string(i) + ".bin";
    bodies[path] = random_bytes(40'000, static_cast<std::uint32_t>(i + 1));
    // A trickle keeps each run going long enough for the other node to try.
    server.add(path, {.body = bodies[path], .rate = 80'000});
    const Daemon& accepting = i % 2 == 0 ? *alpha : *beta;
    ids.push_back(accepting.add({{"source", server.url(path)},
                                 {"dest", "shared/" + std::to_string(i)},
                                 {"node", "any"}})["id"]);
  }
  for (const std::string& id : ids) {
    EXPECT_EQ(alpha->wait_for_state(id, "completed", std::chrono::seconds(90))["state"],
              "completed");
    // The other node saw it finish too: one live view.
    EXPECT_EQ(beta->wait_for_state(id, "completed")["state"], "completed");
  }
  for (int i = 0; i < kJobs; ++i) {
    const std::string path = "/shared/file" + std::to_string(i) + ".bin";
    EXPECT_EQ(gets_of(path), 1) << path << " was fetched by more than one run";
    EXPECT_EQ(
        read_file(models() / "shared" / std::to_string(i) / ("file" + std::to_string(i) + ".bin")),
        bodies[path]);
  }
  // Both nodes ran some: each logs the attempts it started.
  auto started = [](const Daemon& node) {
    const std::string log = node.log();
    int count = 0;
    for (std::size_t at = log.find("attempt 1 of"); at != std::string::npos;
         at = log.find("attempt 1 of", at + 1))
      ++count;
    return count;
  };
  EXPECT_EQ(started(*alpha) + started(*beta), kJobs);
  EXPECT_GT(started(*alpha), 0);
  EXPECT_GT(started(*beta), 0);
}

TEST_F(DaemonClusterTest, APerHostLimitHoldsAcrossNodes) {
  auto alpha = start_node("alpha", {"--max-per-host", "1"});
  auto beta = start_node("beta", {"--max-per-host", "1"});
  constexpr std::size_t kSize = 60'000;
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    const std::string path = "/host/file" + std::to_string(i) + ".bin";
    server.add(path,
               {.body = random_bytes(60'000, static_cast<std::uint32_t>(40 + i)), .rate = 100'000});
    const Daemon& accepting = i % 2 == 0 ? *alpha : *beta;
    ids.push_back(accepting.add({{"source", server.url(path)},
                                 {"dest", "host/" + std::to_string(i)},
                                 {"node", "any"}})["id"]);
  }
  // One host (127.0.0.1): never two of its downloads at once, on either node.
  std::size_t most_at_once = 0;
  ASSERT_TRUE(eventually(
      [&] {
        std::size_t open = 0;
        // (A response sent in full counts as over: the server marks it ended
        // a moment after its last bytes.)
        for (const RequestRecord& request : server.requests())
          open += request.method == "GET" && !request.ended && request.body_bytes < kSize ? 1 : 0;
        most_at_once = std::max(most_at_once, open);
        return std::all_of(ids.begin(), ids.end(), [&](const std::string& id) {
          return alpha->job(id)["state"] == "completed";
        });
      },
      std::chrono::seconds(60), std::chrono::milliseconds(20)));
  EXPECT_EQ(most_at_once, 1u);
}

TEST_F(DaemonClusterTest, ALocalJobRunsOnItsNodeAndTheOtherNodeShowsAndCancelsIt) {
  auto alpha = start_node("alpha");
  auto beta = start_node("beta");
  const std::string body = random_bytes(2'000'000, 3);
  server.add("/slow.bin", {.body = body, .rate = 100'000});
  // Accepted by beta for alpha's disk.
  const std::string id =
      beta->add({{"source", server.url("/slow.bin")}, {"dest", "slow"}, {"node", "alpha"}})["id"];
  EXPECT_EQ(beta->job(id)["node"], "alpha");
  // Beta watches alpha's progress live.
  std::uint64_t seen = 0;
  ASSERT_TRUE(eventually(
      [&] {
        const nlohmann::json job = beta->job(id);
        seen = job.value("bytes_done", std::uint64_t{0});
        // Speed is live only: beta works it out from what alpha stores.
        return job["state"] == "running" && seen > 100'000 && job.value("speed", 0.0) > 0 &&
               !job["eta"].is_null();
      },
      std::chrono::seconds(30)))
      << beta->job(id).dump();
  EXPECT_THAT(alpha->log(), HasSubstr("job " + id + ": attempt 1 of"));
  EXPECT_THAT(beta->log(), ::testing::Not(HasSubstr("job " + id + ": attempt 1 of")));

  // Cancelled from beta: alpha stops the run.
  const HttpReply cancel = beta->call("POST", "/api/v1/jobs/" + id + "/cancel");
  EXPECT_EQ(cancel.status, 202) << cancel.body;
  EXPECT_EQ(alpha->wait_for_state(id, "cancelled")["state"], "cancelled");
  EXPECT_EQ(beta->wait_for_state(id, "cancelled")["state"], "cancelled");
  EXPECT_FALSE(fs::exists(models() / "slow" / "slow.bin"));
}

TEST_F(DaemonClusterTest, AKilledNodesJobIsTakenOverWithinItsLease) {
  auto alpha = start_node("alpha");
  const std::string body = random_bytes(600'000, 9);
  server.add("/takeover.bin", {.body = body, .rate = 150'000});
  const std::string id = alpha->add(
      {{"source", server.url("/takeover.bin")}, {"dest", "takeover"}, {"node", "any"}})["id"];
  ASSERT_TRUE(eventually([&] { return alpha->job(id)["bytes_done"].get<std::uint64_t>() > 0; },
                         std::chrono::seconds(30)));
  auto beta = start_node("beta");
  alpha->kill(SIGKILL);
  const auto killed_at = std::chrono::steady_clock::now();
  EXPECT_EQ(beta->wait_for_state(id, "completed", std::chrono::seconds(60))["state"], "completed");
  // Lease 3 s + 5 s, and the rest of the file at the server's pace.
  EXPECT_LT(std::chrono::steady_clock::now() - killed_at, std::chrono::seconds(20));
  EXPECT_EQ(read_file(models() / "takeover" / "takeover.bin"), body);
  EXPECT_THAT(beta->log(), HasSubstr("taking the run over"));
  EXPECT_THAT(beta->call("GET", "/metrics").body, HasSubstr("\nhaul_takeovers_total 1\n"));
}

TEST_F(DaemonClusterTest, ALocalJobOfANodeThatIsDownWaitsForIt) {
  auto beta = start_node("beta");
  server.add("/waits.bin", {.body = "for alpha"});
  const std::string id =
      beta->add({{"source", server.url("/waits.bin")}, {"dest", "waits"}, {"node", "alpha"}})["id"];
  // Beta's claims pass it over (beta claims every 2 s); an "any" job added
  // after it runs at once, so beta has claimed since.
  server.add("/any.bin", {.body = "for anyone"});
  const std::string any =
      beta->add({{"source", server.url("/any.bin")}, {"dest", "any"}, {"node", "any"}})["id"];
  EXPECT_EQ(beta->wait_for_state(any, "completed")["state"], "completed");
  EXPECT_EQ(beta->job(id)["state"], "queued");
  EXPECT_EQ(gets_of("/waits.bin"), 0);
  // Alpha comes up and runs it.
  auto alpha = start_node("alpha");
  EXPECT_EQ(alpha->wait_for_state(id, "completed")["state"], "completed");
  EXPECT_EQ(read_file(models() / "waits" / "waits.bin"), "for alpha");
  EXPECT_EQ(beta->wait_for_state(id, "completed")["state"], "completed");
}

TEST_F(DaemonClusterTest, ANodeNameOnAnInstanceJobIsRefusedWithOneLine) {
  auto alpha = start_node("alpha");
  const HttpReply refused = alpha->call(
      "POST", "/api/v1/jobs",
      nlohmann::json{{"source", "loras/x.md"}, {"target", "gpu9"}, {"node", "alpha"}}.dump());
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_THAT(refused.body, HasSubstr("'node' is for local jobs"));
}

TEST_F(DaemonClusterTest, PauseFromTheOtherNodeAndResumeThere) {
  auto alpha = start_node("alpha");
  auto beta = start_node("beta");
  const std::string body = random_bytes(1'500'000, 5);
  server.add("/paused.bin", {.body = body, .rate = 200'000});
  const std::string id = alpha->add(
      {{"source", server.url("/paused.bin")}, {"dest", "paused"}, {"node", "alpha"}})["id"];
  // (Until beta has heard of the job, it answers 404: no bytes.)
  ASSERT_TRUE(eventually([&] { return beta->job(id).value("bytes_done", std::uint64_t{0}) > 0; },
                         std::chrono::seconds(30)));
  EXPECT_EQ(beta->call("POST", "/api/v1/jobs/" + id + "/pause").status, 202);
  EXPECT_EQ(alpha->wait_for_state(id, "paused")["state"], "paused");
  EXPECT_EQ(beta->wait_for_state(id, "paused")["state"], "paused");
  // Resumed on beta (an idle job: beta writes it), run again by alpha.
  EXPECT_EQ(beta->call("POST", "/api/v1/jobs/" + id + "/resume").status, 200);
  EXPECT_EQ(alpha->wait_for_state(id, "completed", std::chrono::seconds(60))["state"], "completed");
  EXPECT_EQ(read_file(models() / "paused" / "paused.bin"), body);
}

// Event ids come from the wall clock on every node, so a Last-Event-ID
// given by one node means the same moment on another: what came after it
// is replayed, what came well before it is not. (A node numbers its copy of
// another node's event when it arrives, a few ms later: the events of the
// last moment before the switch may come twice; none is lost.)
TEST_F(DaemonClusterTest, AnSseClientMovingToAnotherNodeResumesWhereItLeftOff) {
  auto alpha = start_node("alpha");
  auto beta = start_node("beta");
  auto add_on = [&](const Daemon& node, const std::string& name) {
    server.add("/" + name, {.body = name});
    return node.add({{"source", server.url("/" + name)}, {"dest", "sse"}})["id"].get<std::string>();
  };
  auto completed = [](const std::string& id) {
    return [id](const std::vector<SseEvent>& seen) {
      return std::any_of(seen.begin(), seen.end(), [&id](const SseEvent& e) {
        return e.type == "complete" && job_of(e) == id;
      });
    };
  };
  // An old job, finished and known to both nodes before the client's last
  // event.
  const std::string old = add_on(*alpha, "old.bin");
  EXPECT_EQ(beta->wait_for_state(old, "completed")["state"], "completed");
  // The client follows alpha until a later job completes.
  const std::string last_seen = add_on(*alpha, "seen.bin");
  const auto on_alpha =
      parse_sse(read_sse_until(alpha->url() + "/api/v1/events", completed(last_seen),
                               std::chrono::seconds(30), {"Last-Event-ID: 0"}));
  ASSERT_FALSE(on_alpha.empty());
  const std::uint64_t seen = on_alpha.back().id;
  // Meanwhile, disconnected: a job on beta. Then the client reconnects to beta.
  const std::string missed = add_on(*beta, "missed.bin");
  EXPECT_EQ(beta->wait_for_state(missed, "completed")["state"], "completed");
  const auto on_beta = parse_sse(read_sse_until(beta->url() + "/api/v1/events", completed(missed),
                                                std::chrono::seconds(30),
                                                {"Last-Event-ID: " + std::to_string(seen)}));
  ASSERT_TRUE(completed(missed)(on_beta)) << "the missed job's events were not replayed";
  for (const SseEvent& event : on_beta) {
    EXPECT_GT(event.id, seen);
    EXPECT_NE(job_of(event), old) << "from well before the client's last event: " << event.type;
  }
}

TEST_F(DaemonClusterTest, AManifestRegisteredOnOneNodeIsListedOnTheOther) {
  auto alpha = start_node("alpha");
  auto beta = start_node("beta");
  const nlohmann::json manifest = {
      {"haul_manifest", 1},
      {"name", "shared"},
      {"models", {{{"name", "m"}, {"group", "vae"}, {"source", server.url("/m.safetensors")}}}}};
  const HttpReply registered =
      alpha->call("POST", "/api/v1/manifests",
                  nlohmann::json{{"name", "shared"}, {"content", manifest}}.dump());
  ASSERT_EQ(registered.status, 201) << registered.body;
  EXPECT_TRUE(eventually([&] {
    return beta->call("GET", "/api/v1/manifests/shared").status == 200;
  })) << beta->call("GET", "/api/v1/manifests").body;
  EXPECT_EQ(alpha->call("DELETE", "/api/v1/manifests/shared").status, 204);
  EXPECT_TRUE(
      eventually([&] { return beta->call("GET", "/api/v1/manifests/shared").status == 404; }));
}

TEST_F(DaemonClusterTest, ASecondNodeOfTheSameNameIsRefusedWithOneLine) {
  auto alpha = start_node("alpha");
  const auto twin = run_haul({"serve", "--listen", "127.0.0.1:0", "--data-dir",
                              (dir / "twin").string(), "--models-root", models().string(),
                              "--store", cluster_->url(database_), "--node", "alpha"});
  EXPECT_EQ(twin.exit_code, 1) << twin.err;
  EXPECT_THAT(twin.err, HasSubstr("another haul node named 'alpha' is serving the queue"));
  EXPECT_EQ(std::count(twin.err.begin(), twin.err.end(), '\n'), 1) << twin.err;
  EXPECT_EQ(alpha->call("GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace haul::testing
