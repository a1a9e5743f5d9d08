// The queue survives: SIGKILL mid-transfer (twice), SIGTERM, restarts.
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "daemon_fixture.hpp"
#include "transfer/resume_state.hpp"

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
    // One connection a file (it is smaller than a piece): 256 KiB/s a job,
    // 768 KiB/s with 3 running.
    resource.rate = 256u << 10;
    server.add("/crash" + std::to_string(i) + ".bin", resource);
    bodies.push_back(resource.body);
  }
  const auto served = [&] {
    std::uint64_t total = 0;
    for (int i = 0; i < kJobs; ++i)
      total += server.bytes_sent("/crash" + std::to_string(i) + ".bin");
    return total;
  };
  // What the checkpoints (.part.state) of the files still being written cover.
  const auto checkpoints = [&] {
    std::map<std::string, std::uint64_t> covered;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(models() / "crash", ec)) {
      const std::string name = entry.path().filename().string();
      if (!name.ends_with(".part.state")) continue;
      if (auto state = transfer::parse_resume_state(read_file(entry.path())))
        covered[name] = state->done.covered();
    }
    return covered;
  };
  // A run has got somewhere, so its kill comes mid-way: 1 MiB served and a
  // checkpoint written that covers more than `before` did.
  const auto progressed = [&](std::uint64_t served_before,
                              const std::map<std::string, std::uint64_t>& before) {
    return eventually(
        [&] {
          if (served() < served_before + (1u << 20)) return false;
          for (const auto& [name, covered] : checkpoints()) {
            auto old = before.find(name);
            if (covered > 0 && (old == before.end() || covered > old->second)) return true;
          }
          return false;
        },
        std::chrono::seconds(60), milliseconds(20));
  };
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
    ASSERT_TRUE(progressed(0, {})) << "the first run made no checkpointed progress";
    daemon->kill(SIGKILL);
  }
  {
    const std::uint64_t served_before = served();
    const auto before = checkpoints();
    auto daemon = start_daemon();
    ASSERT_TRUE(progressed(served_before, before))
        << "the second run made no checkpointed progress";
    daemon->kill(SIGKILL);
  }
  const std::uint64_t served_before_last_run = served();
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
  // Each kill may cost the bytes since the last checkpoint (half a second at
  // 768 KiB/s), plus what was in flight: far below this bound.
  EXPECT_LE(served(), kJobs * kSize + 2 * (12u << 20))
      << "refetched far more than a few seconds of bytes";

  // Each job completed exactly once: one "complete" in the stored event log,
  // replayed from the start over SSE up to the completion of one more job,
  // added now (so every earlier event is in the replay).
  server.add("/marker.bin", Resource{.body = "marker"});
  const std::string marker = daemon->add({{"source", server.url("/marker.bin")}})["id"];
  daemon->wait_for_state(marker, "completed");
  std::map<std::string, int> completes;
  for (const SseEvent& event : parse_sse(
           read_sse_until(daemon->url() + "/api/v1/events",
                          [&](const std::vector<SseEvent>& seen) {
                            return std::any_of(seen.begin(), seen.end(), [&](const SseEvent& e) {
                              return e.type == "complete" && job_of(e) == marker;
                            });
                          },
                          std::chrono::seconds(30), {"Last-Event-ID: 0"}))) {
    if (event.type == "complete" && job_of(event) != marker) ++completes[job_of(event)];
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
