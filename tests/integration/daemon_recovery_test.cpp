// The queue survives: SIGKILL mid-transfer (twice), SIGTERM, restarts.
#include <signal.h>

#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "daemon_fixture.hpp"

namespace haul::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

class DaemonRecoveryTest : public DaemonTest {};

TEST_F(DaemonRecoveryTest, TwentyJobsSurviveTwoKillsAndCompleteOnceEach) {
  constexpr int kJobs = 20;
  constexpr std::size_t kSize = 2u << 20;
  std::vector<std::string> bodies;
  for (int i = 0; i < kJobs; ++i) {
    Resource resource;
    resource.body = random_bytes(kSize, 500 + static_cast<std::uint32_t>(i));
    resource.rate = 256u << 10;  // 8 connections: 2 MiB/s a job, 6 MiB/s with 3 running
    server.add("/crash" + std::to_string(i) + ".bin", resource);
    bodies.push_back(resource.body);
  }
  std::vector<std::string> ids;
  {
    auto daemon = start_daemon();
    json batch = json::array();
    for (int i = 0; i < kJobs; ++i) {
      batch.push_back(
          {{"source", server.url("/crash" + std::to_string(i) + ".bin")}, {"dest", "crash"}});
    }
    const HttpReply added = daemon->call("POST", "/api/v1/jobs", json{{"jobs", batch}}.dump());
    ASSERT_EQ(added.status, 201) << added.body;
    const json reply = added.json();
    for (const json& job : reply["jobs"]) ids.push_back(job["id"]);
    std::this_thread::sleep_for(milliseconds(1500));
    daemon->kill(SIGKILL);
  }
  {
    auto daemon = start_daemon();
    std::this_thread::sleep_for(milliseconds(1500));
    daemon->kill(SIGKILL);
  }
  const std::uint64_t served_before_last_run = [&] {
    std::uint64_t total = 0;
    for (int i = 0; i < kJobs; ++i)
      total += server.bytes_sent("/crash" + std::to_string(i) + ".bin");
    return total;
  }();
  EXPECT_LT(served_before_last_run, kJobs * kSize)
      << "the kills must come mid-way for this test to mean anything";

  auto daemon = start_daemon();
  for (const std::string& id : ids) {
    const json job = daemon->wait_for_state(id, "completed", std::chrono::seconds(90));
    ASSERT_EQ(job["state"], "completed") << job.dump();
  }
  const json listed = daemon->call("GET", "/api/v1/jobs").json();
  EXPECT_EQ(listed["count"], kJobs) << "no job lost, none duplicated";
  for (int i = 0; i < kJobs; ++i) {
    const auto file = models() / "crash" / ("crash" + std::to_string(i) + ".bin");
    EXPECT_EQ(sha256_of(read_file(file)), sha256_of(bodies[static_cast<std::size_t>(i)]))
        << file << "\n"
        << daemon->job(ids[static_cast<std::size_t>(i)]).dump();
    EXPECT_FALSE(std::filesystem::exists(file.string() + ".part"));
  }
  std::uint64_t served = 0;
  for (int i = 0; i < kJobs; ++i)
    served += server.bytes_sent("/crash" + std::to_string(i) + ".bin");
  // Each kill may cost the bytes since the last checkpoint (about a second
  // at 6 MiB/s), plus what was in flight.
  EXPECT_LE(served, kJobs * kSize + 2 * (12u << 20))
      << "refetched far more than a few seconds of bytes";

  // Each job completed exactly once: one "complete" in the stored event log,
  // replayed from the start over SSE.
  std::map<std::string, int> completes;
  for (const SseEvent& event : parse_sse(
           read_sse(daemon->url() + "/api/v1/events", milliseconds(1500), {"Last-Event-ID: 0"}))) {
    if (event.type == "complete") ++completes[event.data["data"]["jobId"].get<std::string>()];
  }
  EXPECT_EQ(completes.size(), ids.size());
  for (const auto& [id, count] : completes) EXPECT_EQ(count, 1) << id;
}

TEST_F(DaemonRecoveryTest, SigtermPausesRunningJobsAndTheNextStartResumesThem) {
  Resource resource;
  resource.body = random_bytes(6u << 20, 77);
  resource.rate = 512u << 10;
  server.add("/term.bin", resource);
  std::string id;
  std::uint64_t done_before = 0;
  {
    auto daemon = start_daemon();
    id = daemon->add({{"source", server.url("/term.bin")}})["id"];
    daemon->wait_for_state(id, "running");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (daemon->job(id)["bytes_done"].get<std::uint64_t>() < (2u << 20) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(50));
    }
    const auto outcome = daemon->stop();
    EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
  }
  server.clear_log();
  auto daemon = start_daemon();
  const json job = daemon->wait_for_state(id, "completed", std::chrono::seconds(60));
  EXPECT_EQ(job["attempts"], 2) << "the interrupted attempt counts, then one more";
  EXPECT_EQ(sha256_of(read_file(models() / "term.bin")), sha256_of(resource.body));
  done_before = resource.body.size() - server.bytes_sent("/term.bin");
  EXPECT_GT(done_before, 1u << 20) << "the second start resumed instead of starting over";
  EXPECT_NE(daemon->log().find("job " + id), std::string::npos);
}

TEST_F(DaemonRecoveryTest, QueuedJobsKeepTheirIdsPriorityAndOrderAcrossRestarts) {
  Resource slow;
  slow.body = random_bytes(4u << 20, 78);
  slow.rate = 256u << 10;
  server.add("/blocker.bin", slow);
  std::vector<std::string> ids;
  {
    auto daemon = start_daemon({"--max-active", "1"});
    ids.push_back(daemon->add({{"source", server.url("/blocker.bin")}})["id"]);
    daemon->wait_for_state(ids[0], "running");
    for (int i = 0; i < 3; ++i) {
      server.add("/q" + std::to_string(i), Resource{.body = "queued " + std::to_string(i)});
      ids.push_back(
          daemon->add({{"source", server.url("/q" + std::to_string(i))}, {"priority", i}})["id"]);
    }
    daemon->kill(SIGKILL);
  }
  auto daemon = start_daemon({"--max-active", "1"});
  for (const std::string& id : ids) {
    EXPECT_EQ(daemon->call("GET", "/api/v1/jobs/" + id).status, 200) << id;
  }
  for (const std::string& id : ids)
    daemon->wait_for_state(id, "completed", std::chrono::seconds(60));
  // With one slot, the highest priority queued job ran first after the blocker.
  std::vector<std::pair<std::string, std::string>> started;
  for (std::size_t i = 1; i < ids.size(); ++i) {
    started.emplace_back(daemon->job(ids[i])["started_at"], ids[i]);
  }
  std::sort(started.begin(), started.end());
  EXPECT_EQ(started[0].second, ids[3]);
  EXPECT_EQ(started[1].second, ids[2]);
  EXPECT_EQ(started[2].second, ids[1]);
}

}  // namespace
}  // namespace haul::testing
