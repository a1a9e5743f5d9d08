// Live events of a real daemon: the WebSocket "download" channel, SSE with
// Last-Event-ID replay, and Socket.IO with the npm socket.io-client.
#include <curl/curl.h>

#include <algorithm>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include "daemon_fixture.hpp"
#include "ws_client.hpp"

namespace haul::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

class DaemonEventsTest : public DaemonTest {
 protected:
  void add_slow_file(const std::string& path, std::size_t size, std::size_t rate) {
    Resource resource;
    resource.body = random_bytes(size, static_cast<std::uint32_t>(size));
    resource.rate = rate;
    server.add(path, resource);
  }
};

TEST_F(DaemonEventsTest, WebSocketChannelStreamsProgressThenComplete) {
  auto daemon = start_daemon();
  add_slow_file("/ws.bin", 3u << 20, 2u << 20);
  WsClient ws(daemon->url());
  ws.send(R"({"subscribe":"download"})");
  EXPECT_EQ(ws.receive()["type"], "subscribed");

  const json job = daemon->add({{"source", server.url("/ws.bin")}});
  const auto messages = ws.receive_until([&](const json& m) { return m["type"] == "complete"; });

  ASSERT_FALSE(messages.empty());
  EXPECT_EQ(messages.back()["type"], "complete");
  int progress = 0;
  std::uint64_t last_bytes = 0;
  for (const json& m : messages) {
    EXPECT_EQ(m["channel"], "download");
    const json& d = m["data"];
    EXPECT_EQ(d["jobId"], job["id"]);
    for (const char* key :
         {"source", "fileIndex", "totalFiles", "fileName", "fileProgress", "overallProgress",
          "bytesDownloaded", "totalBytes", "speed", "eta", "status"}) {
      EXPECT_TRUE(d.contains(key)) << key << " in " << m.dump();
    }
    if (m["type"] == "progress" && d["status"] == "downloading") {
      ++progress;
      EXPECT_GE(d["bytesDownloaded"].get<std::uint64_t>(), last_bytes) << "bytes never go back";
      last_bytes = d["bytesDownloaded"].get<std::uint64_t>();
    }
  }
  EXPECT_GE(progress, 3) << "a 1.5 s download reports progress several times";
  EXPECT_LE(progress, 12) << "at most about 4 updates a second";
  EXPECT_EQ(messages.back()["data"]["overallProgress"], 100.0);
  EXPECT_EQ(messages.back()["data"]["fileName"], "ws.bin");
}

// Issue 10 item 8: a job's files say what the job says: paused, cancelled.
TEST_F(DaemonEventsTest, FilesOfAPausedOrCancelledJobSaySoInItsEvents) {
  auto daemon = start_daemon();
  add_slow_file("/one.bin", 2u << 20, 256u << 10);
  add_slow_file("/two.bin", 2u << 20, 256u << 10);
  WsClient ws(daemon->url());
  ws.send(R"({"subscribe":"download"})");
  EXPECT_EQ(ws.receive()["type"], "subscribed");
  const json job = daemon->add({{"sources", {server.url("/one.bin"), server.url("/two.bin")}}});
  const std::string id = job["id"];
  daemon->wait_for_state(id, "running");
  EXPECT_EQ(daemon->act(id, "pause")["state"], "paused");
  const auto paused =
      ws.receive_until([](const json& m) { return m["data"]["status"] == "paused"; });
  for (const json& file : paused.back()["data"]["files"]) EXPECT_EQ(file["status"], "paused");

  EXPECT_EQ(daemon->act(id, "cancel")["state"], "cancelled");
  const auto cancelled = ws.receive_until([](const json& m) { return m["type"] == "cancelled"; });
  const json& data = cancelled.back()["data"];
  EXPECT_EQ(data["status"], "cancelled");
  ASSERT_EQ(data["files"].size(), 2u);
  for (const json& file : data["files"]) EXPECT_EQ(file["status"], "cancelled") << data.dump();
  const json stored = daemon->job(id);
  for (const json& item : stored["items"]) EXPECT_EQ(item["state"], "cancelled");
}

TEST_F(DaemonEventsTest, WebSocketRejectsUnknownChannelsAndRequiresAnUpgrade) {
  auto daemon = start_daemon();
  WsClient ws(daemon->url());
  ws.send(R"({"subscribe":"weather"})");
  const json reply = ws.receive();
  EXPECT_EQ(reply["type"], "error");
  EXPECT_NE(reply["data"]["message"].get<std::string>().find("weather"), std::string::npos);
  ws.send("not json");
  EXPECT_EQ(ws.receive()["type"], "error");
  EXPECT_EQ(daemon->call("GET", "/api/v1/ws").status, 426);
}

TEST_F(DaemonEventsTest, SseCarriesTheSameEventsWithIdsAndReplaysAfterLastEventId) {
  auto daemon = start_daemon();
  add_slow_file("/sse.bin", 1u << 20, 1u << 20);
  server.add("/marker.bin", Resource{.body = "marker"});
  const std::string url = daemon->url() + "/api/v1/events";
  // Read until a second job, added once the first is over, completes: every
  // event of the first job was published before that, so the stream shows
  // whether anything followed its "complete".
  std::string marker;
  std::mutex mutex;
  const auto marker_done = [&](const std::vector<SseEvent>& events) {
    std::lock_guard lock(mutex);
    return std::any_of(events.begin(), events.end(), [&](const SseEvent& e) {
      return !marker.empty() && e.type == "complete" && job_of(e) == marker;
    });
  };
  std::string live;
  std::thread reader([&] { live = read_sse_until(url, marker_done, std::chrono::seconds(60)); });
  EXPECT_TRUE(daemon->wait_for_subscribers(1)) << "the SSE reader never connected";
  const std::string id = daemon->add({{"source", server.url("/sse.bin")}})["id"];
  daemon->wait_for_state(id, "completed");
  {
    const json added = daemon->add({{"source", server.url("/marker.bin")}});
    std::lock_guard lock(mutex);
    marker = added["id"];
  }
  reader.join();

  std::vector<SseEvent> events;
  for (const SseEvent& event : parse_sse(live))
    if (job_of(event) == id) events.push_back(event);
  ASSERT_GE(events.size(), 3u) << live;
  for (std::size_t i = 1; i < events.size(); ++i) EXPECT_GT(events[i].id, events[i - 1].id);
  EXPECT_EQ(events.back().type, "complete") << live;

  // A client that saw only the first event gets the rest again, up to the
  // marker's completion (which comes after all of them).
  const std::uint64_t seen = events.front().id;
  std::vector<SseEvent> replayed;
  for (const SseEvent& event : parse_sse(read_sse_until(
           url, marker_done, std::chrono::seconds(30), {"Last-Event-ID: " + std::to_string(seen)})))
    if (job_of(event) == id) replayed.push_back(event);
  ASSERT_EQ(replayed.size(), events.size() - 1);
  for (std::size_t i = 0; i < replayed.size(); ++i) EXPECT_EQ(replayed[i].id, events[i + 1].id);
}

TEST_F(DaemonEventsTest, SseReplaysStateChangesAcrossARestart) {
  std::uint64_t first_id = 0;
  std::string job_id;
  {
    auto daemon = start_daemon();
    server.add("/small.bin", Resource{.body = "tiny"});
    job_id = daemon->add({{"source", server.url("/small.bin")}})["id"];
    daemon->wait_for_state(job_id, "completed");
    // The daemon's first event, from its own ring: this job's.
    const auto events = parse_sse(
        read_sse_until(daemon->url() + "/api/v1/events",
                       [](const std::vector<SseEvent>& seen) {
                         return std::any_of(seen.begin(), seen.end(),
                                            [](const SseEvent& e) { return e.type == "complete"; });
                       },
                       std::chrono::seconds(30), {"Last-Event-ID: 0"}));
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(job_of(events.front()), job_id);
    first_id = events.front().id;
  }
  ASSERT_GT(first_id, 0u);
  auto daemon = start_daemon();
  // A job of the new run marks where the replay of the old one has ended.
  server.add("/marker.bin", Resource{.body = "marker"});
  const std::string marker = daemon->add({{"source", server.url("/marker.bin")}})["id"];
  daemon->wait_for_state(marker, "completed");
  const auto events = parse_sse(
      read_sse_until(daemon->url() + "/api/v1/events",
                     [&](const std::vector<SseEvent>& seen) {
                       return std::any_of(seen.begin(), seen.end(), [&](const SseEvent& e) {
                         return e.type == "complete" && job_of(e) == marker;
                       });
                     },
                     std::chrono::seconds(30), {"Last-Event-ID: " + std::to_string(first_id - 1)}));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().id, first_id) << "ids keep counting across restarts";
  std::vector<SseEvent> replayed;
  for (const SseEvent& event : events)
    if (job_of(event) == job_id) replayed.push_back(event);
  ASSERT_FALSE(replayed.empty());
  EXPECT_EQ(replayed.back().type, "complete");
  EXPECT_GT(events.back().id, replayed.back().id) << "the new run's events come after";
}

// The real npm socket.io-client, default options, against the daemon.
TEST_F(DaemonEventsTest, SocketIoClientReceivesDownloadEvents) {
  const std::filesystem::path node_dir = std::filesystem::path(HAUL_SOURCE_DIR) / "tests" / "node";
  if (!std::filesystem::exists(node_dir / "node_modules" / "socket.io-client")) {
    GTEST_SKIP() << "tests/node/node_modules is missing: run ./dev test (it runs npm ci)";
  }
  auto daemon = start_daemon();
  add_slow_file("/sio.bin", 2u << 20, 2u << 20);
  const std::string script = (node_dir / "daemon_downloads.mjs").string();
  HaulProcess node({"node", script, daemon->url(), server.url("/sio.bin")}, {}, "/usr/bin/env");
  const auto outcome = node.wait(std::chrono::seconds(60));
  ASSERT_EQ(outcome.exit_code, 0) << outcome.out << outcome.err;
  std::vector<json> lines;
  std::istringstream in(outcome.out);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(json::parse(line));
  }
  ASSERT_GE(lines.size(), 3u) << outcome.out;
  EXPECT_EQ(lines.front()["transport"], "polling") << "default options start with long-polling";
  int progress = 0;
  for (const json& line : lines) progress += line.value("event", "") == "progress" ? 1 : 0;
  EXPECT_GE(progress, 2) << outcome.out;
  EXPECT_EQ(lines.back()["event"], "complete") << outcome.out;
  EXPECT_EQ(lines.back()["data"]["overallProgress"], 100.0);
  EXPECT_EQ(lines.back()["final_transport"], "websocket") << "the client upgrades";
}

TEST_F(DaemonEventsTest, MetricsCountJobsBytesAndSubscribers) {
  auto daemon = start_daemon();
  server.add("/m.bin", Resource{.body = random_bytes(300000, 9)});
  const std::string id = daemon->add({{"source", server.url("/m.bin")}})["id"];
  daemon->wait_for_state(id, "completed");
  WsClient ws(daemon->url());
  ws.send(R"({"subscribe":"download"})");
  ws.receive();
  const HttpReply metrics = daemon->call("GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.headers.at("content-type").find("text/plain"), std::string::npos);
  EXPECT_NE(metrics.body.find("haul_jobs{state=\"completed\"} 1\n"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("haul_jobs{state=\"queued\"} 0\n"), std::string::npos);
  EXPECT_NE(metrics.body.find("haul_downloaded_bytes_total 300000\n"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("haul_active_transfers 0\n"), std::string::npos);
  EXPECT_NE(metrics.body.find("haul_event_subscribers 1\n"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("# TYPE haul_downloaded_bytes_total counter"), std::string::npos);
}

}  // namespace
}  // namespace haul::testing
