// How a daemon job retries (issue 10 items 9 and 10): seed 003's backoff,
// initial delay x 2^retry (2 s, 4 s, ...), and attempts a user can count:
// one request per attempt from a server that always refuses, one "gave up"
// note in the message.
#include "daemon_fixture.hpp"

namespace haul::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

class DaemonRetriesTest : public DaemonTest {
 protected:
  // "2026-12-06T23:45:55.123Z" as a system clock time.
  static std::chrono::system_clock::time_point parse_iso(const std::string& text) {
    std::tm tm{};
    int ms = 0;
    std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return std::chrono::system_clock::from_time_t(timegm(&tm)) + milliseconds(ms);
  }
};

TEST_F(DaemonRetriesTest, AFailingJobMakesOneRequestPerAttemptAndSaysSoOnce) {
  server.add("/down.bin", {.body = "x", .fail_status = 503, .fail_times = -1});
  auto daemon = start_daemon();
  const std::string id =
      daemon->add({{"source", server.url("/down.bin")}, {"max_attempts", 3}})["id"];
  const json failed = daemon->wait_for_state(id, "failed", std::chrono::seconds(30));
  EXPECT_EQ(failed["attempts"], 3);
  const std::string message = failed["error"]["message"];
  EXPECT_TRUE(contains(message, "503")) << message;
  EXPECT_TRUE(contains(message, "(gave up after 3 attempts)")) << message;
  EXPECT_EQ(message.find("gave up"), message.rfind("gave up")) << "one note only: " << message;
  EXPECT_EQ(server.requests_for("/down.bin").size(), 3u)
      << "a refusing server gets one request per attempt";
}

// The default backoff, measured from what the daemon publishes: each time
// the job is seen retrying, next_attempt_at lies 2 s (then 4 s) ahead,
// +-10 % (the polling adds a little).
TEST_F(DaemonRetriesTest, RetriesWaitTwoThenFourSecondsByDefault) {
  server.add("/flaky.bin", {.body = "x", .fail_status = 503, .fail_times = -1});
  auto daemon = std::make_unique<Daemon>(dir / "data", models());  // no fast --retry-delay
  const std::string id =
      daemon->add({{"source", server.url("/flaky.bin")}, {"max_attempts", 3}})["id"];
  std::vector<double> waits;
  int seen_attempt = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  while (std::chrono::steady_clock::now() < deadline) {
    const json job = daemon->job(id);
    if (job["state"] == "failed") break;
    if (job["state"] == "retrying" && job["attempts"].get<int>() > seen_attempt) {
      seen_attempt = job["attempts"];
      const auto now = std::chrono::system_clock::now();
      waits.push_back(
          std::chrono::duration<double>(parse_iso(job["next_attempt_at"]) - now).count());
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(waits.size(), 2u);
  EXPECT_GE(waits[0], 1.3);  // 2 s, less what passed before the poll saw it
  EXPECT_LE(waits[0], 2.25);
  EXPECT_GE(waits[1], 3.0);  // 4 s
  EXPECT_LE(waits[1], 4.45);
  EXPECT_EQ(daemon->job(id)["state"], "failed");
}

TEST_F(DaemonRetriesTest, RetryDelayOptionsAreCheckedAtStart) {
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--retry-delay", "soon"},
        std::vector<std::string>{"--max-retry-delay", "-1s"}}) {
    std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:0", "--data-dir",
                                     (dir / "bad").string()};
    args.insert(args.end(), bad.begin(), bad.end());
    const auto outcome = run_haul(args);
    EXPECT_EQ(outcome.exit_code, 2) << outcome.err;
    EXPECT_TRUE(contains(outcome.err, bad[0])) << outcome.err;
  }
}

}  // namespace
}  // namespace haul::testing
