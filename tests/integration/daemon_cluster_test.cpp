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
        seen = job["bytes_done"].get<std::uint64_t>();
        return job["state"] == "running" && seen > 100'000;
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
