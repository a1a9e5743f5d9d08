// RemoteRunner against a real sshd on 127.0.0.1 (tests/support/test_sshd)
// with the real wget, curl and aria2c fetching from the test HTTP server:
// live progress on the instance's pseudo-terminal, jobs of one instance at
// the same time, and no partial file under a final name after a cancel or a
// failure (while files that were there before stay).
#include "remote/remote_runner.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "support/test_http_server.hpp"
#include "support/test_sshd.hpp"

namespace haul::remote {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using progress::ProgressUpdate;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string pattern(std::size_t size, char seed) {
  std::string text(size, '\0');
  for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>(seed + i * 7 % 251);
  return text;
}

// Polls `condition` (files, processes) every 20 ms up to a generous deadline.
bool eventually(const std::function<bool()>& condition, std::chrono::seconds deadline = 20s) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// A process whose command line matches `regex` (write "m/[l]ora" so that
// pgrep's own command line does not match).
bool running(const std::string& regex) {
  return std::system(("pgrep -f '" + regex + "' >/dev/null").c_str()) == 0;
}

// Records what the runner reports, for tests to wait on.
class Recorder : public RemoteObserver {
 public:
  struct Step {
    bool started = false;
    bool finished = false;
    std::vector<ProgressUpdate> updates;
    std::optional<Result<CommandResult>> result;
  };

  void on_step_started(const std::string& job, std::size_t step) override {
    update([&] { steps_[{job, step}].started = true; });
  }
  void on_step_progress(const std::string& job, std::size_t step,
                        const ProgressUpdate& u) override {
    update([&] { steps_[{job, step}].updates.push_back(u); });
  }
  void on_step_finished(const std::string& job, std::size_t step,
                        const Result<CommandResult>& result) override {
    update([&] {
      steps_[{job, step}].finished = true;
      steps_[{job, step}].result = result;
    });
  }
  void on_job_finished(const std::string& job, const Result<void>& result) override {
    update([&] { jobs_.emplace(job, result); });
  }

  // Waits (up to a generous deadline) until `ready` holds under the lock.
  bool wait(const std::function<bool()>& ready, std::chrono::seconds deadline = 60s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, deadline, ready);
  }
  bool wait_job(const std::string& job) {
    return wait([&] { return jobs_.count(job) != 0; });
  }
  // A progress frame of a running download, neither empty nor complete.
  bool saw_live_progress(const std::string& job) const {
    for (const auto& [key, step] : steps_) {
      if (key.first != job || step.finished) continue;
      for (const ProgressUpdate& u : step.updates) {
        if (u.kind == ProgressUpdate::Kind::kProgress && u.downloaded && *u.downloaded > 0 &&
            (!u.percent || *u.percent < 100))
          return true;
      }
    }
    return false;
  }

  std::mutex mutex_;
  std::map<std::pair<std::string, std::size_t>, Step> steps_;  // guarded
  std::map<std::string, Result<void>> jobs_;                   // guarded

 private:
  template <class F>
  void update(F&& f) {
    {
      std::lock_guard lock(mutex_);
      f();
    }
    changed_.notify_all();
  }
  std::condition_variable changed_;
};

class RemoteRunnerTest : public ::testing::Test {
 protected:
  RemoteRunnerTest() {
    ui_home = sshd.dir() / "ui home";
    fs::create_directories(ui_home / "models/loras");
    runner = std::make_unique<RemoteRunner>(recorder, session_options());
  }
  ~RemoteRunnerTest() override { runner.reset(); }

  SessionOptions session_options() const {
    SessionOptions o;
    o.known_hosts = sshd.known_hosts();
    o.use_agent = false;
    o.read_ssh_config = false;
    o.connect_timeout = 10s;
    return o;
  }

  RemoteJob job(const std::string& id, std::vector<std::string> commands) const {
    RemoteJob j;
    j.job_id = id;
    j.instance_id = "gpu";
    j.ssh_command = sshd.ssh_command();
    j.ui_home = ui_home.string();
    for (auto& command : commands) j.steps.push_back(RemoteStep{std::move(command), {}});
    j.timeout = 120s;
    return j;
  }

  // Runs `command` against a server that sends part of the file and then
  // stalls; waits for live progress while it runs, then cancels the job.
  void cancel_mid_download(const std::string& id, const std::string& command) {
    runner->submit(job(id, {command}));
    ASSERT_TRUE(recorder.wait([&] { return recorder.saw_live_progress(id); }))
        << "no progress while the download ran: " << log_of(id);
    runner->cancel(id);
    ASSERT_TRUE(recorder.wait_job(id));
    std::lock_guard lock(recorder.mutex_);
    ASSERT_FALSE(recorder.jobs_.at(id));
    EXPECT_EQ(recorder.jobs_.at(id).error().code, ErrorCode::kCancelled);
  }

  std::string log_of(const std::string& id) {
    std::lock_guard lock(recorder.mutex_);
    std::string text;
    for (const auto& [key, step] : recorder.steps_) {
      if (key.first != id) continue;
      for (const auto& u : step.updates)
        text += std::string(progress::kind_name(u.kind)) + " " + u.message + "\n";
    }
    return text;
  }

  // The stalled file: 1 MiB arrives, then nothing until the client goes.
  void serve_stalling(const std::string& path) {
    server.add(path,
               haul::testing::Resource{
                   .body = pattern(4u << 20, 'a'), .stall_times = -1, .stall_after = 1u << 20});
  }

  haul::testing::TestSshd sshd;
  haul::testing::TestHttpServer server;
  fs::path ui_home;
  Recorder recorder;
  std::unique_ptr<RemoteRunner> runner;
};

TEST_F(RemoteRunnerTest, WgetShowsLiveProgressAndACancelLeavesNoFileUnderItsName) {
  serve_stalling("/m/lora.safetensors");
  cancel_mid_download("wget",
                      "wget -P \"$UI_HOME/models/loras\" " + server.url("/m/lora.safetensors"));
  EXPECT_FALSE(fs::exists(ui_home / "models/loras/lora.safetensors"));
  // wget on a terminal survives the hang-up of a closed terminal: the kill
  // reaches the terminal's own process group too.
  EXPECT_TRUE(eventually([] { return !running("m/[l]ora.safetensors"); }));
}

TEST_F(RemoteRunnerTest, Aria2cShowsLiveProgressAndACancelLeavesNoFileNorControlFile) {
  // aria2c keeps its readout back when stdout is a file: this needs the terminal.
  serve_stalling("/m/vae.safetensors");
  cancel_mid_download("aria2c", "aria2c -d \"$UI_HOME/models/vae\" -o vae.safetensors " +
                                    server.url("/m/vae.safetensors"));
  EXPECT_FALSE(fs::exists(ui_home / "models/vae/vae.safetensors"));
  EXPECT_FALSE(fs::exists(ui_home / "models/vae/vae.safetensors.aria2"));
  EXPECT_TRUE(eventually([] { return !running("m/[v]ae.safetensors"); }));
}

TEST_F(RemoteRunnerTest, CurlShowsLiveProgressAndACancelLeavesNoFileUnderItsName) {
  serve_stalling("/m/flux.safetensors");
  cancel_mid_download("curl", "cd \"$UI_HOME\" && curl -fL -o models/flux.safetensors " +
                                  server.url("/m/flux.safetensors"));
  EXPECT_FALSE(fs::exists(ui_home / "models/flux.safetensors"));
}

TEST_F(RemoteRunnerTest, ACancelKeepsAnInstalledModelAndRemovesOnlyWhatWgetWrote) {
  const std::string installed = pattern(1000, 'z');
  std::ofstream(ui_home / "models/loras/lora.safetensors", std::ios::binary) << installed;
  serve_stalling("/m/lora.safetensors");
  // wget saves next to the existing file, as lora.safetensors.1 (it says so).
  cancel_mid_download("wget",
                      "wget -P \"$UI_HOME/models/loras\" " + server.url("/m/lora.safetensors"));
  EXPECT_EQ(read_text(ui_home / "models/loras/lora.safetensors"), installed);
  EXPECT_FALSE(fs::exists(ui_home / "models/loras/lora.safetensors.1"));
}

TEST_F(RemoteRunnerTest, AFailedStepRemovesItsPartialFileButNotWhatWasThereBefore) {
  const std::string installed = pattern(1000, 'y');
  std::ofstream(ui_home / "models/loras/kept.safetensors", std::ios::binary) << installed;
  server.add("/m/kept.safetensors", haul::testing::Resource{.body = pattern(2000, 'k')});
  // Sends half, then resets the connection: wget (one try) fails midway.
  server.add("/m/broken.safetensors",
             haul::testing::Resource{
                 .body = pattern(2u << 20, 'b'), .reset_after = 1u << 20, .reset_times = -1});
  const std::string dir = "\"$UI_HOME/models/loras\"";
  runner->submit(
      job("failing", {"wget -nc -P " + dir + " " + server.url("/m/kept.safetensors") +
                      " && wget --tries=1 -P " + dir + " " + server.url("/m/broken.safetensors")}));
  ASSERT_TRUE(recorder.wait_job("failing"));
  {
    std::lock_guard lock(recorder.mutex_);
    ASSERT_FALSE(recorder.jobs_.at("failing"));
    EXPECT_NE(recorder.jobs_.at("failing").error().message.find("exited with status 4"),
              std::string::npos)
        << recorder.jobs_.at("failing").error().message;
  }
  EXPECT_EQ(read_text(ui_home / "models/loras/kept.safetensors"), installed) << "wget -nc kept it";
  EXPECT_FALSE(fs::exists(ui_home / "models/loras/broken.safetensors"));
  // The run's records went with the job.
  EXPECT_FALSE(fs::exists(sshd.home() / ".cache/haul/runs/failing"));
}

TEST_F(RemoteRunnerTest, ACompletedStepsFilesStayWhenALaterStepFails) {
  server.add("/m/a.bin", haul::testing::Resource{.body = pattern(5000, 'a')});
  runner->submit(job("two", {"wget -P \"$UI_HOME\" " + server.url("/m/a.bin"),
                             "wget --tries=1 -P \"$UI_HOME\" " + server.url("/m/missing.bin")}));
  ASSERT_TRUE(recorder.wait_job("two"));
  {
    std::lock_guard lock(recorder.mutex_);
    ASSERT_FALSE(recorder.jobs_.at("two"));
  }
  EXPECT_EQ(read_text(ui_home / "a.bin"), pattern(5000, 'a'));
}

TEST_F(RemoteRunnerTest, CommandsDoNotWaitForInputOnTheirTerminal) {
  runner->submit(job("stdin", {"read x; echo \"got[$x]\"; read y </dev/tty; "
                               "echo \"tty[$y]\"; test -t 1 && echo on-a-terminal"}));
  ASSERT_TRUE(recorder.wait_job("stdin"));
  std::lock_guard lock(recorder.mutex_);
  ASSERT_TRUE(recorder.jobs_.at("stdin")) << recorder.jobs_.at("stdin").error().message;
  std::string messages;
  for (const auto& u : recorder.steps_[{"stdin", 0}].updates) messages += u.message + "\n";
  EXPECT_NE(messages.find("got[]"), std::string::npos) << messages;
  EXPECT_NE(messages.find("tty[]"), std::string::npos) << messages;
  EXPECT_NE(messages.find("on-a-terminal"), std::string::npos) << messages;
}

TEST_F(RemoteRunnerTest, SecretsStayOutOfTheProcessListOnTheTerminalToo) {
  RemoteJob secret = job("secret", {"echo \"token=$HF_TOKEN\"; ps -eww -o args"});
  secret.steps[0].env["HF_TOKEN"] = "hf_SECRETvalue123";
  runner->submit(secret);
  ASSERT_TRUE(recorder.wait_job("secret"));
  std::lock_guard lock(recorder.mutex_);
  ASSERT_TRUE(recorder.jobs_.at("secret")) << recorder.jobs_.at("secret").error().message;
  std::string out;
  for (const auto& u : recorder.steps_[{"secret", 0}].updates) out += u.message + "\n";
  EXPECT_NE(out.find("token=hf_SECRETvalue123"), std::string::npos) << out;
  EXPECT_NE(out.find("script -qfec"), std::string::npos) << "the list was taken on the terminal";
  std::size_t seen = 0;
  for (auto at = out.find("hf_SECRETvalue123"); at != std::string::npos;
       at = out.find("hf_SECRETvalue123", at + 1))
    ++seen;
  EXPECT_EQ(seen, 1u) << "only the echo, in no process's arguments: " << out;
}

TEST_F(RemoteRunnerTest, JobsOfOneInstanceRunAtTheSameTime) {
  // Each command waits until the other one has started: they can only both
  // succeed when they run at once.
  const auto waiting_for = [&](const char* mine, const char* other) {
    return std::string("touch \"$UI_HOME/") + mine + "\"; i=0; while [ ! -e \"$UI_HOME/" + other +
           "\" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; test -e \"$UI_HOME/" + other +
           "\"";
  };
  runner->submit(job("first", {waiting_for("first", "second")}));
  runner->submit(job("second", {waiting_for("second", "first")}));
  ASSERT_TRUE(recorder.wait_job("first"));
  ASSERT_TRUE(recorder.wait_job("second"));
  {
    std::lock_guard lock(recorder.mutex_);
    EXPECT_TRUE(recorder.jobs_.at("first")) << recorder.jobs_.at("first").error().message;
    EXPECT_TRUE(recorder.jobs_.at("second")) << recorder.jobs_.at("second").error().message;
  }
  const auto logins = [&] {
    const std::string log = sshd.log();
    std::size_t n = 0;
    for (auto at = log.find("Accepted publickey"); at != std::string::npos;
         at = log.find("Accepted publickey", at + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(logins(), 2u) << "one session per running job";
  // A later job reuses an idle worker and its session.
  runner->submit(job("third", {"true"}));
  ASSERT_TRUE(recorder.wait_job("third"));
  EXPECT_EQ(logins(), 2u);
}

TEST_F(RemoteRunnerTest, CancellingOneOfTwoRunningJobsLeavesTheOtherRunning) {
  runner->submit(job("stays", {"touch \"$UI_HOME/stays\"; sleep 3061; touch \"$UI_HOME/x\""}));
  runner->submit(job("goes", {"touch \"$UI_HOME/goes\"; sleep 3062"}));
  ASSERT_TRUE(
      eventually([&] { return fs::exists(ui_home / "stays") && fs::exists(ui_home / "goes"); }));
  runner->cancel("goes");
  ASSERT_TRUE(recorder.wait_job("goes"));
  {
    std::lock_guard lock(recorder.mutex_);
    EXPECT_EQ(recorder.jobs_.count("stays"), 0u);
  }
  EXPECT_FALSE(running("sleep [3]062"));
  EXPECT_TRUE(running("sleep [3]061"));
  runner->cancel("stays");
  ASSERT_TRUE(recorder.wait_job("stays"));
  EXPECT_FALSE(running("sleep [3]061"));
  EXPECT_FALSE(fs::exists(ui_home / "x"));
}

}  // namespace
}  // namespace haul::remote
