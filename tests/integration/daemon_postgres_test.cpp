// `haul serve --store postgres://...` against a real PostgreSQL 15 the test
// starts (tests/support/postgres_cluster.hpp): a job runs and outlives the
// daemon in the database, and the password shows nowhere: not in the
// process list, the log, the status page or an error. Several nodes on one
// queue: daemon_cluster_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "daemon_fixture.hpp"
#include "harness.hpp"
#include "support/postgres_cluster.hpp"

namespace haul::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kPassword = "N0de-Secret-4711";

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class DaemonPostgresTest : public DaemonTest {
 protected:
  void SetUp() override {
    cluster_ = &PostgresCluster::shared();
    database_ = cluster_->create_database();
    // A role that must give its password, owning the database (and so
    // allowed to create the schema), as a team's setup would have it.
    role_ = "node_" + database_;
    cluster_->create_password_role(role_, kPassword);
    cluster_->query("postgres", "ALTER DATABASE " + database_ + " OWNER TO " + role_);
  }
  std::string store_url() const {
    return "postgres://" + role_ + ":" + kPassword +
           "@127.0.0.1:" + std::to_string(cluster_->port()) + "/" + database_;
  }

  PostgresCluster* cluster_ = nullptr;
  std::string database_;
  std::string role_;
};

TEST_F(DaemonPostgresTest, AJobOnAPostgresQueueCompletesAndOutlivesTheDaemon) {
  const std::string body = random_bytes(300'000, 7);
  server.add("/pg/model.safetensors", {.body = body});
  std::string id;
  {
    auto daemon = start_daemon({"--store", store_url()});
    id = daemon->add(
        {{"source", server.url("/pg/model.safetensors")}, {"dest", "checkpoints"}})["id"];
    EXPECT_EQ(daemon->wait_for_state(id, "completed")["state"], "completed");

    // The password is nowhere a user of the machine or of the API can see.
    const HttpReply status = daemon->call("GET", "/api/v1/status");
    ASSERT_EQ(status.status, 200) << status.body;
    EXPECT_THAT(status.body, Not(HasSubstr(kPassword)));
    EXPECT_THAT(status.json()["settings"]["store"].get<std::string>(),
                HasSubstr("@127.0.0.1:" + std::to_string(cluster_->port()) + "/" + database_));
    const std::string pid = std::to_string(status.json()["pid"].get<long>());
    const std::string cmdline = read_all("/proc/" + pid + "/cmdline");
    EXPECT_THAT(cmdline, HasSubstr("postgres://" + role_ + ":"));
    EXPECT_THAT(cmdline, Not(HasSubstr(kPassword)));
    EXPECT_THAT(daemon->log(), Not(HasSubstr(kPassword)));
  }
  EXPECT_EQ(read_all(models() / "checkpoints" / "model.safetensors"), body);
  // Stored in PostgreSQL, not in a file of the data dir.
  EXPECT_FALSE(fs::exists(dir / "data" / "haul.db"));
  EXPECT_EQ(cluster_->query(database_, "SELECT state FROM jobs WHERE id = '" + id + "'"),
            "completed");
  auto again = start_daemon({"--store", store_url()});
  EXPECT_EQ(again->job(id)["state"], "completed");
}

TEST_F(DaemonPostgresTest, HealthzStatusAndMetricsShowTheNodeAndItsHeartbeat) {
  auto daemon = start_daemon({"--store", store_url(), "--node", "alpha"});
  // The first heartbeat goes out as the daemon starts; its answer may come
  // a moment after the first request.
  nlohmann::json health;
  eventually([&] {
    health = daemon->call("GET", "/healthz").json();
    return health.contains("nodes") && !health["nodes"].empty();
  });
  EXPECT_EQ(health["node"], "alpha");
  ASSERT_EQ(health["nodes"].size(), 1u) << health.dump();
  const nlohmann::json& node = health["nodes"][0];
  EXPECT_EQ(node["name"], "alpha");
  EXPECT_EQ(node["self"], true);
  EXPECT_EQ(node["jobs_held"], 0);
  EXPECT_LT(node["heartbeat_age_seconds"].get<double>(), 15.0);
  // Recorded in the database, where the other nodes read it.
  EXPECT_EQ(cluster_->query(database_, "SELECT name FROM nodes"), "alpha");
  EXPECT_EQ(daemon->call("GET", "/api/v1/status").json()["nodes"][0]["name"], "alpha");
  const std::string metrics = daemon->call("GET", "/metrics").body;
  EXPECT_THAT(metrics, HasSubstr("\nhaul_nodes 1\n"));
  EXPECT_THAT(metrics, HasSubstr("\nhaul_heartbeat_failures_total 0\n"));
}

TEST_F(DaemonPostgresTest, AReservedOrMalformedNodeNameIsRefused) {
  for (const char* name : {"any", "two words"}) {
    const auto refused =
        run_haul({"serve", "--listen", "127.0.0.1:0", "--data-dir", (dir / "data").string(),
                  "--store", store_url(), "--node", name});
    EXPECT_EQ(refused.exit_code, 2) << refused.err;
    EXPECT_THAT(refused.err, HasSubstr("--node '" + std::string(name) + "'"));
  }
}

TEST_F(DaemonPostgresTest, AWrongPasswordOrAnUnknownStoreIsOneLineWithoutThePassword) {
  const std::string wrong = "postgres://" + role_ +
                            ":Wrong-Pa55word@127.0.0.1:" + std::to_string(cluster_->port()) + "/" +
                            database_;
  const auto refused = run_haul({"serve", "--listen", "127.0.0.1:0", "--data-dir",
                                 (dir / "data").string(), "--store", wrong});
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("127.0.0.1:" + std::to_string(cluster_->port())));
  EXPECT_THAT(refused.err, Not(HasSubstr("Wrong-Pa55word")));
  EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;

  const auto unknown = run_haul({"serve", "--listen", "127.0.0.1:0", "--data-dir",
                                 (dir / "data").string(), "--store", "mysql://u:Hunter-2@db/q"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  EXPECT_THAT(unknown.err, HasSubstr("expected sqlite:PATH or postgres://"));
  EXPECT_THAT(unknown.err, Not(HasSubstr("Hunter-2")));
}

}  // namespace
}  // namespace haul::testing
