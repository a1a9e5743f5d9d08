// Browser tests of the web UI (issue 13): playwright-core (npm, installed by
// ./dev in tests/node) drives Debian's Chromium headless against a `haul
// serve` started here, with the test HTTP server and the test sshd as the
// real back ends. Each test runs one script of tests/node/ui/ (one Chromium
// launch, several scenarios); the script exits 0 when every scenario passed
// and otherwise names the one that failed and why. Screenshots go to
// <build dir>/ui-artifacts.
#include <signal.h>

#include <iostream>
#include <regex>
#include <thread>

#include "daemon_fixture.hpp"
#include "remote_fixture.hpp"

namespace haul::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::seconds;

const fs::path kNodeDir = fs::path(HAUL_SOURCE_DIR) / "tests" / "node";
constexpr const char* kChromium = "/usr/bin/chromium";
constexpr const char* kRestartMarker = "ui: restart the daemon now";

// Why the browser tests cannot run on this machine; empty when they can.
std::string browser_missing() {
  if (!fs::exists(kChromium))
    return std::string(kChromium) + " is missing: run ./dev test (it installs Debian's chromium)";
  if (!fs::exists(kNodeDir / "node_modules" / "playwright-core"))
    return "tests/node/node_modules/playwright-core is missing: run ./dev test (it runs npm ci)";
  return {};
}

// `haul serve` on 127.0.0.1 that can be stopped and started again on the
// same port with the same data (Daemon always takes a fresh port).
class UiDaemon {
 public:
  explicit UiDaemon(std::vector<std::string> args) : args_(std::move(args)) { start("0"); }
  ~UiDaemon() { stop(); }
  UiDaemon(const UiDaemon&) = delete;
  UiDaemon& operator=(const UiDaemon&) = delete;

  const std::string& url() const { return url_; }
  HttpReply call(const std::string& method, const std::string& path,
                 const json& body = nullptr) const {
    return http_call(method, url_ + path, body.is_null() ? std::string() : body.dump());
  }
  std::string output() const {
    return process_ ? process_->stdout_so_far() + process_->stderr_so_far() : std::string();
  }
  void stop() {
    if (!process_) return;
    process_->signal(SIGTERM);
    const auto outcome = process_->wait(seconds(30));
    EXPECT_EQ(outcome.exit_code, 0) << "haul serve did not stop cleanly:\n" << outcome.err;
    process_.reset();
  }
  void restart() {
    stop();
    start(port_);
  }

 private:
  void start(const std::string& port) {
    std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:" + port};
    args.insert(args.end(), args_.begin(), args_.end());
    // HAUL_UI_WEB_DIR=web serves a checkout's files instead of the built-in
    // copy (while working on the UI: no rebuild between runs).
    if (const char* web = std::getenv("HAUL_UI_WEB_DIR"); web != nullptr && *web != '\0') {
      args.push_back("--web-dir");
      args.push_back(web);
    }
    process_ = std::make_unique<HaulProcess>(args);
    const std::regex serving("haul: serving on (http://127\\.0\\.0\\.1:([0-9]+))");
    std::smatch match;
    const bool up = eventually(
        [&] {
          const std::string out = process_->stdout_so_far();
          return std::regex_search(out, match, serving) || process_->exited();
        },
        seconds(30), std::chrono::milliseconds(20));
    const std::string out = process_->stdout_so_far();
    ASSERT_TRUE(up && std::regex_search(out, match, serving)) << "haul serve did not start:\n"
                                                              << process_->stderr_so_far();
    url_ = match[1];
    port_ = match[2];
  }

  std::vector<std::string> args_;
  std::unique_ptr<HaulProcess> process_;
  std::string url_;
  std::string port_;
};

// Runs `node tests/node/ui/SCRIPT ARGS...`; while it runs, `on_output` sees
// its output so far (and may act on it). Prints the scenarios' lines; the
// outcome's output is for failure messages.
HaulProcess::Outcome run_scenarios(const std::string& script, std::vector<std::string> args,
                                   const std::function<void(const std::string&)>& on_output = {}) {
  // HAUL_BINARY is <build dir>/src/app/haul.
  const fs::path artifacts =
      fs::path(HAUL_BINARY).parent_path().parent_path().parent_path() / "ui-artifacts";
  fs::create_directories(artifacts);
  std::vector<std::string> argv = {"node", (kNodeDir / "ui" / script).string()};
  argv.insert(argv.end(), args.begin(), args.end());
  HaulProcess node(argv, {"HAUL_UI_ARTIFACTS=" + artifacts.string()}, "/usr/bin/env");
  while (on_output && !node.exited()) {
    on_output(node.stdout_so_far());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // The script's own deadline is 150 s, ctest's 180 s; this one only
  // catches a hang.
  auto outcome = node.wait(seconds(170));
  std::cout << outcome.out << std::flush;
  return outcome;
}

std::string tail(const std::string& text, std::size_t size) {
  return text.size() > size ? text.substr(text.size() - size) : text;
}

std::string failure(const HaulProcess::Outcome& outcome, const UiDaemon& daemon) {
  return "node exited " + std::to_string(outcome.exit_code) + " (signal " +
         std::to_string(outcome.signal) + ")\n--- stdout\n" + outcome.out + "--- stderr\n" +
         outcome.err + "--- daemon (the end)\n" + tail(daemon.output(), 8000);
}

// The common daemon options: fast retries, one connection per file (the test
// server's trickle rate is per response, so this keeps a slow file slow).
std::vector<std::string> daemon_args(const fs::path& data, const fs::path& models,
                                     std::vector<std::string> extra = {}) {
  fs::create_directories(models);
  std::vector<std::string> args = {"--data-dir",    data.string(), "--models-root", models.string(),
                                   "--retry-delay", "20ms",        "--connections", "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// The one file named `name` anywhere under `root` ("" when none).
fs::path find_file(const fs::path& root, const std::string& name) {
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.is_regular_file() && entry.path().filename() == name) return entry.path();
  return {};
}

class WebUiTest : public DaemonTest {
 protected:
  void SetUp() override {
    if (const std::string missing = browser_missing(); !missing.empty()) GTEST_SKIP() << missing;
  }
};

// Downloads and Add: add -> 100 %, an API error by its field, pause/resume,
// cancel, a 404's error text, polling with the WebSocket blocked;
// screenshots of both views.
TEST_F(WebUiTest, Downloads) {
  const std::string added = random_bytes(2u << 20, 71);
  server.add("/ui/add.bin", Resource{.body = added, .rate = 1u << 20});
  server.add("/ui/slow.bin", Resource{.body = random_bytes(4u << 20, 72), .rate = 1u << 20});
  server.add("/ui/endless.bin", Resource{.body = random_bytes(16u << 20, 73), .rate = 256u << 10});
  server.add("/ui/missing.bin", Resource{.fail_status = 404, .fail_times = -1});
  server.add("/ui/polled.bin", Resource{.body = random_bytes(3u << 20, 74), .rate = 512u << 10});
  UiDaemon daemon(daemon_args(dir / "data", models()));
  ASSERT_FALSE(daemon.url().empty());
  const auto outcome =
      run_scenarios("downloads.mjs", {daemon.url(), server.url("/ui/add.bin"),
                                      server.url("/ui/slow.bin"), server.url("/ui/endless.bin"),
                                      server.url("/ui/missing.bin"), server.url("/ui/polled.bin")});
  ASSERT_EQ(outcome.exit_code, 0) << failure(outcome, daemon);
  // What the page added is on disk, whole.
  const fs::path file = find_file(models(), "add.bin");
  ASSERT_FALSE(file.empty()) << "add.bin is nowhere under " << models();
  EXPECT_TRUE(read_file(file) == added);
  EXPECT_FALSE(server.requests_for("/ui/missing.bin").empty());
}

// A 1,000-job queue renders and scrolls; the page recovers by itself after
// the daemon restarts on the same port.
TEST_F(WebUiTest, QueueAndRestart) {
  const std::string slow = random_bytes(1u << 20, 75);
  server.add_prefix_handler("/q/", [&slow](const TestHttpServer::Request&) {
    // 16 KiB/s: a minute per file, so the three running jobs stay running.
    return TestHttpServer::Response{.status = 200,
                                    .headers = {{"Content-Type", "application/octet-stream"}},
                                    .body = slow,
                                    .rate = 16u << 10};
  });
  server.add("/ui/after.bin", Resource{.body = random_bytes(1000, 76)});
  UiDaemon daemon(daemon_args(dir / "data", models()));
  ASSERT_FALSE(daemon.url().empty());
  bool restarted = false;
  const auto outcome =
      run_scenarios("queue.mjs", {daemon.url(), server.url("/q/"), server.url("/ui/after.bin")},
                    [&](const std::string& out) {
                      if (restarted || out.find(kRestartMarker) == std::string::npos) return;
                      restarted = true;
                      const std::string before = daemon.url();
                      daemon.restart();
                      EXPECT_EQ(daemon.url(), before) << "the daemon came back on another port";
                    });
  ASSERT_EQ(outcome.exit_code, 0) << failure(outcome, daemon);
  EXPECT_TRUE(restarted) << "the script never asked for the restart";
  // The job added after the restart is the daemon's.
  const json after = daemon.call("GET", "/api/v1/jobs?name=after-restart").json();
  EXPECT_NE(after.dump().find("after-restart"), std::string::npos) << after.dump();
}

class WebUiRemoteTest : public DaemonRemoteTest {
 protected:
  void SetUp() override {
    if (const std::string missing = browser_missing(); !missing.empty()) GTEST_SKIP() << missing;
  }
};

// Instances, Resources (Install Selected of two cards on the sshd instance)
// and Models (the missing-models toggle); screenshots of the three views; the
// token dialog against a second daemon started with --token.
TEST_F(WebUiRemoteTest, Views) {
  // A manifest with one model on disk and one missing.
  const std::string present = random_bytes(100000, 77);
  const std::string absent = random_bytes(120000, 78);
  server.add("/m/present.safetensors", Resource{.body = present});
  server.add("/m/absent.safetensors", Resource{.body = absent});
  write_file(models() / "checkpoints" / "present.safetensors", present);
  UiDaemon daemon(
      daemon_args(dir / "data", models(),
                  {"--library", library().string(), "--known-hosts", sshd.known_hosts().string()}));
  ASSERT_FALSE(daemon.url().empty());
  const json manifest = {{"haul_manifest", 1},
                         {"name", "studio"},
                         {"models",
                          {{{"name", "present"},
                            {"group", "checkpoints"},
                            {"source", server.url("/m/present.safetensors")},
                            {"size", present.size()},
                            {"sha256", sha256_of(present)}},
                           {{"name", "absent"},
                            {"group", "loras"},
                            {"source", server.url("/m/absent.safetensors")},
                            {"size", absent.size()}}}}};
  const HttpReply registered =
      daemon.call("POST", "/api/v1/manifests", {{"name", "studio"}, {"content", manifest}});
  ASSERT_EQ(registered.status, 201) << registered.body;
  std::string present_id, missing_id;
  const json listed = daemon.call("GET", "/api/v1/models?manifest=studio").json();
  for (const json& model : listed.at("models")) {
    if (model.at("name") == "present") present_id = model.at("id");
    if (model.at("name") == "absent") missing_id = model.at("id");
    EXPECT_EQ(model.at("state"), model.at("name") == "present" ? "present" : "missing")
        << model.dump();
  }
  ASSERT_FALSE(present_id.empty() || missing_id.empty());
  const HttpReply instance = daemon.call(
      "POST", "/api/v1/instances",
      {{"id", "gpu1"}, {"ssh_command", sshd.ssh_command()}, {"ui_home", ui_home().string()}});
  ASSERT_EQ(instance.status, 201) << instance.body;

  // A second daemon that wants a token.
  UiDaemon guarded(daemon_args(dir / "guarded", dir / "guarded-models", {"--token", "s3cret-ui"}));
  ASSERT_FALSE(guarded.url().empty());

  const auto outcome =
      run_scenarios("views.mjs", {daemon.url(), "gpu1", sshd.ssh_command(), "vae/wan_vae.md",
                                  "checkpoints/flux_schnell.md", present_id, missing_id,
                                  guarded.url(), "s3cret-ui"});
  ASSERT_EQ(outcome.exit_code, 0) << failure(outcome, daemon);
  // Both cards ran on the instance.
  EXPECT_TRUE(read_file(ui_home() / "models/vae/wan_vae.safetensors") == vae);
  EXPECT_TRUE(read_file(ui_home() / "models/checkpoints/flux.safetensors") == checkpoint);
}

}  // namespace
}  // namespace haul::testing
