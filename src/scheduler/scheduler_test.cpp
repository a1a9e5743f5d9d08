// The scheduler's rules, in microseconds of test time: one thread, a store in
// memory (the DB worker runs inline), a manual clock and runners the test
// drives. Nothing sleeps; "waiting 2 s" is advancing the clock by 2 s.
#include "scheduler/scheduler.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <map>
#include <set>

#include "store/memory/memory_job_store.hpp"

namespace haul::scheduler {
namespace {

using core::JobState;
using std::chrono::milliseconds;
using std::chrono::seconds;

class ManualClock final : public Clock {
 public:
  core::TimePoint now() const override { return now_; }
  std::chrono::steady_clock::time_point steady_now() const override { return steady_; }
  void wake_at(core::TimePoint at, std::function<void()> wake) override {
    wake_ = std::move(wake);
    wake_at_ = at;
  }
  void cancel_wake() override { wake_ = nullptr; }
  // Moves time on, waking the scheduler when its wake-up comes due.
  void advance(std::chrono::milliseconds by) {
    now_ += by;
    steady_ += by;
    if (wake_ && wake_at_ <= now_) {
      auto wake = std::move(wake_);
      wake_ = nullptr;
      wake();
    }
  }

 private:
  core::TimePoint now_ = core::TimePoint{} + std::chrono::hours(24 * 365 * 56);
  std::chrono::steady_clock::time_point steady_{};
  std::function<void()> wake_;
  core::TimePoint wake_at_{};
};

// A runner the test drives: it records what the scheduler asks and reports
// what the test says happened.
class ScriptedRunner final : public JobRunner {
 public:
  ScriptedRunner(RunHost& host, bool remote) : host_(host), remote_(remote) {}

  bool accepts(const core::JobRequest& request) const override {
    return (request.target != "local") == remote_;
  }
  bool runs(const core::Job& job) const override { return (job.target != "local") == remote_; }
  Result<void> prepare(core::Job& job, const core::JobRequest& request) const override {
    if (request.sources.front() == "bad") return fail(ErrorCode::kInvalidArgument, "bad source");
    for (const std::string& source : request.sources) {
      core::Item item;
      item.source = source;
      job.items.push_back(item);
    }
    job.destination = "/models/" + request.dest;
    if (job.name.empty()) job.name = request.sources.front();
    return {};
  }
  std::string identity(const core::Job& job) const override { return job.source; }
  std::string host_of(const core::Job& job) const override {
    return job.source.substr(0, job.source.find('/'));  // "hostA/x.bin" -> "hostA"
  }
  void start(const std::string& job_id) override {
    started.push_back(job_id);
    running.insert(job_id);
    if (fail_at_once) end(job_id, fail(ErrorCode::kNotFound, "gone"));
  }
  void stop(const std::string& job_id, StopReason reason) override {
    stops.emplace_back(job_id, reason);
    if (stop_at_once) stopped(job_id);
  }
  void discard(const core::Job& job) override { discarded.insert(job.id); }

  // What happened to a running job.
  void succeed(const std::string& id) {
    const core::Job* job = host_.job(id);
    for (std::size_t i = 0; i < job->items.size(); ++i) {
      host_.item_started(id, i);
      host_.item_progress(id, i, ItemProgress{100, 100, 10.0, {}, {}, {}, {}});
      host_.item_finished(id, i, ItemOutcome{"/models/f" + std::to_string(i), 100, "abc"});
    }
    end(id, {});
  }
  void fail_with(const std::string& id, Error error) {
    host_.item_started(id, 0);
    host_.item_finished(id, 0, fail(error));
    end(id, fail(error));
  }
  void stopped(const std::string& id) {
    const core::Job* job = host_.job(id);
    for (std::size_t i = 0; i < job->items.size(); ++i) {
      if (job->items[i].state == core::ItemState::kRunning)
        host_.item_finished(id, i, fail(ErrorCode::kCancelled, "stopped"));
    }
    end(id, fail(ErrorCode::kCancelled, "stopped"));
  }
  void end(const std::string& id, const Result<void>& outcome) {
    running.erase(id);
    host_.run_finished(id, outcome);
  }

  std::vector<std::string> started;
  std::set<std::string> running;
  std::vector<std::pair<std::string, StopReason>> stops;
  std::set<std::string> discarded;
  bool stop_at_once = false;
  bool fail_at_once = false;  // every run ends inside start()

 private:
  RunHost& host_;
  bool remote_;
};

class SchedulerTest : public ::testing::Test {
 protected:
  SchedulerTest() { make(std::make_unique<store::MemoryJobStore>()); }

  void make(std::unique_ptr<store::JobStore> store, SchedulerOptions options = {}) {
    local_.reset();
    remote_.reset();
    scheduler_.reset();
    db_.reset();
    db_ = std::make_unique<store::DbWorker>(
        std::move(store),
        [this](std::function<void()> task) { boost::asio::post(io_, std::move(task)); },
        store::DbWorker::Inline{});
    options.random = [] { return 0.5; };  // jitter factor exactly 1
    options.max_active = options_max_active_;
    options.max_per_host = options_max_per_host_;
    scheduler_ = std::make_unique<Scheduler>(*db_, bus_, clock_, options);
    local_ = std::make_unique<ScriptedRunner>(*scheduler_, false);
    remote_ = std::make_unique<ScriptedRunner>(*scheduler_, true);
    scheduler_->add_runner(*local_);
    scheduler_->add_runner(*remote_);
    ASSERT_TRUE(scheduler_->start());
    settle();
  }

  void settle() {
    io_.restart();
    io_.poll();
  }

  // Adds one job and returns its id.
  std::string add(const std::string& source, int priority = 0, int max_attempts = 5,
                  const std::string& target = "local") {
    core::JobRequest request;
    request.sources = {source};
    request.priority = priority;
    request.max_attempts = max_attempts;
    request.target = target;
    std::string id;
    scheduler_->add({request}, [&](Result<std::vector<AddResult>> added) {
      ASSERT_TRUE(added) << added.error().message;
      id = added->front().job.id;
    });
    settle();
    return id;
  }

  JobState state(const std::string& id) const { return scheduler_->find(id)->state; }
  const core::Job& job(const std::string& id) const { return *scheduler_->find(id); }

  Result<ActResult> act(const std::string& id, core::Action action) {
    Result<ActResult> answer = fail(ErrorCode::kInternal, "no answer");
    scheduler_->act(id, action, [&](Result<ActResult> result) { answer = std::move(result); });
    settle();
    return answer;
  }

  boost::asio::io_context io_;
  EventBus bus_;
  ManualClock clock_;
  int options_max_active_ = 3;
  int options_max_per_host_ = 0;
  std::unique_ptr<store::DbWorker> db_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<ScriptedRunner> local_;
  std::unique_ptr<ScriptedRunner> remote_;
};

TEST_F(SchedulerTest, AJobRunsAndCompletesWithItsItems) {
  const std::string id = add("hostA/a.bin");
  ASSERT_EQ(local_->started, std::vector<std::string>{id});
  EXPECT_EQ(state(id), JobState::kRunning);
  EXPECT_EQ(job(id).attempts, 1);
  local_->succeed(id);
  settle();
  EXPECT_EQ(state(id), JobState::kCompleted);
  EXPECT_EQ(job(id).items[0].state, core::ItemState::kCompleted);
  EXPECT_EQ(job(id).items[0].path, "/models/f0");
  EXPECT_TRUE(job(id).finished_at);
  EXPECT_EQ(scheduler_->stats().bytes_downloaded, 100u);
}

TEST_F(SchedulerTest, MaxActiveLimitsLocalJobsAndAFreedSlotIsReused) {
  scheduler_.reset();
  options_max_active_ = 2;
  make(std::make_unique<store::MemoryJobStore>());
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(add("h" + std::to_string(i) + "/f"));
  EXPECT_EQ(local_->started, (std::vector<std::string>{ids[0], ids[1]}));
  EXPECT_EQ(state(ids[2]), JobState::kQueued);
  local_->succeed(ids[0]);
  EXPECT_EQ(local_->started.back(), ids[2]);
  EXPECT_EQ(state(ids[3]), JobState::kQueued);
}

TEST_F(SchedulerTest, HigherPriorityStartsFirstThenOldestFirst) {
  scheduler_.reset();
  options_max_active_ = 1;
  make(std::make_unique<store::MemoryJobStore>());
  const std::string blocker = add("h/blocker");
  const std::string low1 = add("h/low1");
  const std::string low2 = add("h/low2", 0);
  const std::string high = add("h/high", 5);
  const std::string mid = add("h/mid", 2);
  const std::string negative = add("h/neg", -1);
  for (int i = 0; i < 5; ++i) local_->succeed(local_->started.back());
  EXPECT_EQ(local_->started, (std::vector<std::string>{blocker, high, mid, low1, low2, negative}));
}

// A runner may end a run inside start(); the scheduling pass that started
// it goes on over a queue that changed under it.
TEST_F(SchedulerTest, RunsThatEndInsideStartLeaveTheQueueConsistent) {
  scheduler_.reset();
  options_max_active_ = 2;
  make(std::make_unique<store::MemoryJobStore>());
  local_->fail_at_once = true;
  std::vector<core::JobRequest> requests(5);
  for (int i = 0; i < 5; ++i) requests[i].sources = {"h/" + std::to_string(i)};
  scheduler_->add(requests, [](Result<std::vector<AddResult>> added) { ASSERT_TRUE(added); });
  settle();
  EXPECT_EQ(local_->started.size(), 5u);
  for (const core::Job* job : scheduler_->list()) EXPECT_EQ(job->state, JobState::kFailed);
  EXPECT_EQ(scheduler_->stats().jobs_by_state[JobState::kFailed], 5u);
}

TEST_F(SchedulerTest, PerHostLimitHoldsOtherHostsBack) {
  scheduler_.reset();
  options_max_per_host_ = 1;
  make(std::make_unique<store::MemoryJobStore>());
  const std::string a1 = add("hostA/1");
  const std::string a2 = add("hostA/2");
  const std::string b1 = add("hostB/1");
  EXPECT_EQ(local_->started, (std::vector<std::string>{a1, b1}));
  local_->succeed(a1);
  EXPECT_EQ(local_->started.back(), a2);
}

TEST_F(SchedulerTest, AnInstanceRunsUpToItsMaxParallel) {
  core::Instance gpu;
  gpu.id = "gpu";
  gpu.ssh_command = "ssh root@gpu";
  gpu.max_parallel = 2;
  scheduler_->instances().put(gpu, [](Result<core::Instance> put) { ASSERT_TRUE(put); });
  settle();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(add("card" + std::to_string(i), 0, 5, "gpu"));
  EXPECT_EQ(remote_->started, (std::vector<std::string>{ids[0], ids[1]}));
  EXPECT_TRUE(local_->started.empty());
  EXPECT_TRUE(scheduler_->instances().find("gpu")->last_used_at);
  remote_->succeed(ids[1]);
  EXPECT_EQ(remote_->started.back(), ids[2]);
}

TEST_F(SchedulerTest, AJobForAnUnknownInstanceWaitsUntilItIsRegistered) {
  core::Instance gpu;
  gpu.id = "late";
  gpu.ssh_command = "ssh root@late";
  scheduler_->instances().put(gpu, [](Result<core::Instance>) {});
  settle();
  const std::string id = add("card", 0, 5, "late");
  ASSERT_EQ(remote_->started.size(), 1u);
  remote_->succeed(id);
  scheduler_->instances().remove("late", [](Result<void> removed) { ASSERT_TRUE(removed); });
  settle();
  core::JobRequest request;
  request.sources = {"card2"};
  request.target = "late";
  bool added = false;
  scheduler_->add({request}, [&](Result<std::vector<AddResult>> result) { added = bool(result); });
  settle();
  EXPECT_TRUE(added);
  EXPECT_EQ(remote_->started.size(), 1u) << "no instance, no start";
  scheduler_->instances().put(gpu, [](Result<core::Instance>) {});
  settle();
  EXPECT_EQ(remote_->started.size(), 2u) << "registered: it starts";
}

// Seed 003: initial delay x 2^retry, here 2 s then 4 s (the jitter draw is
// fixed at the middle), and the third failure ends it.
TEST_F(SchedulerTest, RetriesWaitTwoThenFourSecondsThenTheJobFails) {
  const std::string id = add("h/flaky", 0, 3);
  local_->fail_with(id, Error{ErrorCode::kUnavailable, "503 Service Unavailable"});
  settle();
  EXPECT_EQ(state(id), JobState::kRetrying);
  EXPECT_EQ(*job(id).next_attempt_at - clock_.now(), seconds(2));
  EXPECT_EQ(job(id).items[0].state, core::ItemState::kFailed);
  clock_.advance(milliseconds(1999));
  EXPECT_EQ(local_->started.size(), 1u);
  clock_.advance(milliseconds(1));
  ASSERT_EQ(local_->started.size(), 2u);
  EXPECT_EQ(state(id), JobState::kRunning);
  EXPECT_EQ(job(id).attempts, 2);
  local_->fail_with(id, Error{ErrorCode::kUnavailable, "503 Service Unavailable"});
  EXPECT_EQ(*job(id).next_attempt_at - clock_.now(), seconds(4));
  clock_.advance(seconds(4));
  ASSERT_EQ(local_->started.size(), 3u);
  local_->fail_with(id, Error{ErrorCode::kUnavailable, "503 Service Unavailable"});
  settle();
  EXPECT_EQ(state(id), JobState::kFailed);
  EXPECT_EQ(job(id).error->message, "503 Service Unavailable (gave up after 3 attempts)");
  EXPECT_FALSE(job(id).next_attempt_at);
}

TEST_F(SchedulerTest, ALongerRetryAfterWinsAndTheCapHolds) {
  const std::string id = add("h/busy");
  Error busy{ErrorCode::kUnavailable, "429 Too Many Requests"};
  busy.retry_after = seconds(30);
  local_->fail_with(id, busy);
  EXPECT_EQ(*job(id).next_attempt_at - clock_.now(), seconds(30));

  scheduler_.reset();
  SchedulerOptions capped;
  capped.retry_backoff.max = seconds(3);
  make(std::make_unique<store::MemoryJobStore>(), capped);
  const std::string other = add("h/other", 0, 9);
  for (int attempt = 1; attempt <= 4; ++attempt) {
    local_->fail_with(other, Error{ErrorCode::kUnavailable, "reset"});
    const auto wait = *job(other).next_attempt_at - clock_.now();
    EXPECT_EQ(wait, attempt == 1 ? seconds(2) : seconds(3)) << attempt;
    clock_.advance(std::chrono::duration_cast<milliseconds>(wait));
  }
}

TEST_F(SchedulerTest, PermanentErrorsAndASecondMismatchFailAtOnce) {
  const std::string missing = add("h/missing");
  local_->fail_with(missing, Error{ErrorCode::kNotFound, "404 Not Found"});
  EXPECT_EQ(state(missing), JobState::kFailed);
  EXPECT_EQ(job(missing).error->message, "404 Not Found") << "no 'gave up' note";
  EXPECT_EQ(job(missing).error->code, "not_found");

  const std::string corrupt = add("h/corrupt");
  local_->fail_with(corrupt, Error{ErrorCode::kDataLoss, "sha256 mismatch"});
  EXPECT_EQ(state(corrupt), JobState::kRetrying) << "once may be the connection";
  clock_.advance(seconds(2));
  local_->fail_with(corrupt, Error{ErrorCode::kDataLoss, "sha256 mismatch"});
  EXPECT_EQ(state(corrupt), JobState::kFailed) << "twice is the file";
}

TEST_F(SchedulerTest, PauseAndCancelOfARunningJobAnswerAtOnceAndEndWhenTheRunStops) {
  const std::string id = add("h/big");
  auto paused = act(id, core::Action::kPause);
  ASSERT_TRUE(paused);
  EXPECT_TRUE(paused->pending);
  EXPECT_EQ(paused->job.state, JobState::kRunning);
  EXPECT_EQ(paused->job.pending_action, core::Action::kPause);
  ASSERT_EQ(local_->stops.size(), 1u);
  EXPECT_EQ(local_->stops[0].second, StopReason::kPause);
  local_->stopped(id);
  settle();
  EXPECT_EQ(state(id), JobState::kPaused);
  EXPECT_FALSE(job(id).pending_action);
  EXPECT_EQ(job(id).items[0].state, core::ItemState::kPaused);

  EXPECT_EQ(act(id, core::Action::kResume)->job.state, JobState::kRunning) << "resumed, restarted";
  auto cancelled = act(id, core::Action::kCancel);
  EXPECT_TRUE(cancelled->pending);
  local_->stopped(id);
  settle();
  EXPECT_EQ(state(id), JobState::kCancelled);
  EXPECT_EQ(job(id).items[0].state, core::ItemState::kCancelled);
  EXPECT_TRUE(local_->discarded.count(id)) << "a cancel removes the partial files";
}

TEST_F(SchedulerTest, ACancelWhileAPauseIsUnderWayEndsCancelled) {
  const std::string id = add("h/big");
  EXPECT_TRUE(act(id, core::Action::kPause)->pending);
  EXPECT_TRUE(act(id, core::Action::kCancel)->pending);
  EXPECT_EQ(job(id).pending_action, core::Action::kCancel);
  local_->stopped(id);
  EXPECT_EQ(state(id), JobState::kCancelled);
  EXPECT_TRUE(local_->discarded.count(id));
}

TEST_F(SchedulerTest, ARunnerThatStopsAtOnceAnswersWithTheOutcome) {
  local_->stop_at_once = true;
  const std::string id = add("h/quick");
  auto paused = act(id, core::Action::kPause);
  ASSERT_TRUE(paused);
  EXPECT_FALSE(paused->pending);
  EXPECT_EQ(state(id), JobState::kPaused);
}

TEST_F(SchedulerTest, ActionsOnQueuedAndFinishedJobs) {
  scheduler_.reset();
  options_max_active_ = 1;
  make(std::make_unique<store::MemoryJobStore>());
  const std::string blocker = add("h/blocker");
  const std::string waiting = add("h/waiting");
  auto cancelled = act(waiting, core::Action::kCancel);
  ASSERT_TRUE(cancelled);
  EXPECT_FALSE(cancelled->pending);
  EXPECT_EQ(cancelled->job.state, JobState::kCancelled);
  EXPECT_TRUE(local_->discarded.count(waiting));
  EXPECT_EQ(act(waiting, core::Action::kCancel).error().code, ErrorCode::kConflict);
  EXPECT_EQ(act(waiting, core::Action::kPause).error().message, "cannot pause a cancelled job");
  EXPECT_EQ(act("nope", core::Action::kPause).error().code, ErrorCode::kNotFound);
  local_->succeed(blocker);
  EXPECT_EQ(local_->started.size(), 1u) << "a cancelled job does not start";
  EXPECT_EQ(act(waiting, core::Action::kRetry)->job.state, JobState::kRunning);
  EXPECT_EQ(job(waiting).attempts, 1) << "retry starts counting again";
}

TEST_F(SchedulerTest, ADuplicateOfAnUnfinishedJobIsTheSameJob) {
  const std::string id = add("h/same");
  EXPECT_EQ(add("h/same"), id);
  local_->succeed(id);
  EXPECT_NE(add("h/same"), id) << "finished: a new job";
}

// Regression: a duplicate that arrived before the first job's commit found
// its id claimed but not yet stored, and the daemon died (unordered_map::at).
TEST_F(SchedulerTest, ADuplicateArrivingBeforeTheCommitIsTheSameJob) {
  core::JobRequest request;
  request.sources = {"h/twice"};
  std::vector<AddResult> answers;
  for (int i = 0; i < 2; ++i) {
    scheduler_->add({request}, [&](Result<std::vector<AddResult>> added) {
      ASSERT_TRUE(added) << added.error().message;
      answers.push_back(added->front());
    });
  }
  settle();
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[1].job.id, answers[0].job.id);
  EXPECT_NE(answers[0].existing, answers[1].existing) << "one new job, one the same";
  EXPECT_NE(scheduler_->find(answers[0].job.id), nullptr);
}

TEST_F(SchedulerTest, ABadRequestRefusesTheWholeBatch) {
  core::JobRequest good;
  good.sources = {"h/good"};
  core::JobRequest bad;
  bad.sources = {"bad"};
  Result<std::vector<AddResult>> answer = fail(ErrorCode::kInternal, "");
  scheduler_->add({good, bad}, [&](Result<std::vector<AddResult>> r) { answer = std::move(r); });
  settle();
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().message, "bad source");
  EXPECT_TRUE(scheduler_->list().empty());
}

TEST_F(SchedulerTest, AJobACrashLeftRunningIsQueuedAndStartsAgain) {
  auto store = std::make_unique<store::MemoryJobStore>();
  core::Job crashed;
  crashed.id = "crashed";
  crashed.seq = 7;
  crashed.source = "h/x";
  crashed.state = JobState::kRunning;
  crashed.attempts = 1;
  core::Item item;
  item.source = "h/x";
  item.state = core::ItemState::kRunning;
  crashed.items = {item};
  store::WriteBatch batch;
  batch.upserts = {crashed};
  ASSERT_TRUE(store->apply(batch));
  make(std::move(store));
  ASSERT_EQ(local_->started, std::vector<std::string>{"crashed"});
  EXPECT_EQ(job("crashed").attempts, 2);
  EXPECT_EQ(job("crashed").items[0].state, core::ItemState::kQueued);
  EXPECT_GT(job(add("h/new")).seq, 7) << "new jobs sort after the stored ones";
}

TEST_F(SchedulerTest, ShutdownStopsRunsAndQueuesThemForTheNextStart) {
  const std::string id = add("h/long");
  bool done = false;
  scheduler_->shutdown([&] { done = true; });
  ASSERT_EQ(local_->stops.size(), 1u);
  EXPECT_EQ(local_->stops[0].second, StopReason::kShutdown);
  EXPECT_FALSE(done);
  local_->stopped(id);
  EXPECT_TRUE(done);
  EXPECT_EQ(state(id), JobState::kQueued);
  EXPECT_EQ(add("h/after"), add("h/after"));
  EXPECT_EQ(local_->started.size(), 1u) << "nothing starts while shutting down";
}

// Regression: a cancel answered 202, then SIGTERM before the run stopped,
// stored the job as queued and the next start ran it again.
TEST_F(SchedulerTest, ACancelUnderWayWhenTheDaemonStopsEndsCancelled) {
  const std::string id = add("h/long");
  EXPECT_TRUE(act(id, core::Action::kCancel)->pending);
  bool done = false;
  scheduler_->shutdown([&] { done = true; });
  ASSERT_EQ(local_->stops.size(), 1u) << "the cancel's stop only, not a second one";
  EXPECT_EQ(local_->stops[0].second, StopReason::kCancel);
  local_->stopped(id);
  EXPECT_TRUE(done);
  settle();
  EXPECT_EQ(state(id), JobState::kCancelled);
  EXPECT_TRUE(local_->discarded.count(id));
}

TEST_F(SchedulerTest, RemovingARunningJobWaitsForItsStop) {
  const std::string id = add("h/doomed");
  bool removed = false;
  scheduler_->remove(id, [&](Result<void> result) { removed = bool(result); });
  settle();
  EXPECT_FALSE(removed);
  ASSERT_NE(scheduler_->find(id), nullptr);
  local_->stopped(id);
  settle();
  EXPECT_TRUE(removed);
  EXPECT_EQ(scheduler_->find(id), nullptr);
}

TEST_F(SchedulerTest, ListFiltersByNameAndPath) {
  const std::string a = add("h/a.bin");
  const std::string b = add("h/b.bin");
  local_->succeed(a);
  JobFilter by_name;
  by_name.name = "h/b.bin";
  ASSERT_EQ(scheduler_->list(by_name).size(), 1u);
  EXPECT_EQ(scheduler_->list(by_name)[0]->id, b);
  JobFilter by_path;
  by_path.path = "/models/f0";
  ASSERT_EQ(scheduler_->list(by_path).size(), 1u);
  EXPECT_EQ(scheduler_->list(by_path)[0]->id, a);
  by_path.path = "/models/";
  EXPECT_EQ(scheduler_->list(by_path).size(), 2u) << "a folder covers what is in it";
}

}  // namespace
}  // namespace haul::scheduler
