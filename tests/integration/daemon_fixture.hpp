// Fixture for daemon tests: a real `haul serve` process on a free port with
// its own data directory, the test HTTP server as the download source, and
// a small blocking HTTP client for the REST API.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "harness.hpp"
#include "support/test_http_server.hpp"

namespace haul::testing {

struct HttpReply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

// One request with libcurl; `headers` are "Name: value" lines.
HttpReply http_call(const std::string& method, const std::string& url, const std::string& body = {},
                    const std::vector<std::string>& headers = {});

// Reads an SSE stream for `duration` (it never ends by itself) and returns
// what arrived. A fixed duration cuts a slow machine short: prefer
// read_sse_until below.
std::string read_sse(const std::string& url, std::chrono::milliseconds duration,
                     const std::vector<std::string>& headers = {});

struct SseEvent {
  std::uint64_t id = 0;
  std::string type;
  nlohmann::json data;
};
// The complete events in `text` (a partial one at its end is left out).
std::vector<SseEvent> parse_sse(const std::string& text);

// Reads an SSE stream until `done` holds for the events received so far, or
// `timeout` passes; returns what arrived. A slow machine gets the time it
// needs, a fast one does not wait out a fixed duration.
std::string read_sse_until(const std::string& url,
                           const std::function<bool(const std::vector<SseEvent>&)>& done,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30),
                           const std::vector<std::string>& headers = {});
// The job id an SSE event is about ("" for none).
std::string job_of(const SseEvent& event);

class Daemon {
 public:
  // Starts `haul serve` with `extra` arguments and waits until it listens.
  Daemon(const std::filesystem::path& data_dir, const std::filesystem::path& models_root,
         std::vector<std::string> extra = {}, std::vector<std::string> env = {});
  ~Daemon();

  const std::string& url() const { return url_; }
  HttpReply call(const std::string& method, const std::string& path, const std::string& body = {},
                 const std::vector<std::string>& headers = {}) const;
  // POST /api/v1/jobs with one job; returns the job JSON (asserts 200/201).
  nlohmann::json add(const nlohmann::json& job) const;
  nlohmann::json job(const std::string& id) const;
  // Polls until the job is in `state` (or a finished state); returns it.
  nlohmann::json wait_for_state(const std::string& id, const std::string& state,
                                std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  // POST /api/v1/jobs/{id}/ACTION and, when the job was running (202), wait
  // until its stop has ended; returns the job then.
  nlohmann::json act(const std::string& id, const std::string& action,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  // Waits until /metrics counts `count` live event subscribers (WebSocket and
  // SSE), i.e. the daemon has registered a stream a test opened.
  bool wait_for_subscribers(int count,
                            std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  void kill(int signal);
  HaulProcess::Outcome stop();  // SIGTERM and wait
  std::string log() const;      // data/logs/downloads.log

 private:
  std::filesystem::path data_dir_;
  std::unique_ptr<HaulProcess> process_;
  std::string url_;
};

class DaemonTest : public ::testing::Test {
 protected:
  std::filesystem::path models() const { return dir / "models"; }
  std::unique_ptr<Daemon> start_daemon(std::vector<std::string> extra = {},
                                       std::vector<std::string> env = {}) {
    // Fast retries unless the test sets its own.
    std::vector<std::string> args;
    if (std::find(extra.begin(), extra.end(), "--retry-delay") == extra.end())
      args = {"--retry-delay", "20ms"};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<Daemon>(dir / "data", models(), args, env);
  }

  TempDir dir;
  TestHttpServer server;
};

}  // namespace haul::testing
