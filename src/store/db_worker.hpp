// The one thread that talks to the JobStore. Writes queued while a
// transaction runs are merged into the next one (group commit), so a burst
// of API calls costs one fsync, not one each. Results come back through
// `post`, which hands them to the caller's thread (the daemon's io_context).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <variant>

#include "base/error.hpp"
#include "store/job_store.hpp"

namespace haul::store {

class DbWorker {
 public:
  using Post = std::function<void(std::function<void()>)>;
  using WriteDone = std::function<void(Result<void>)>;

  DbWorker(std::unique_ptr<JobStore> store, Post post);
  // No thread: every task runs at once on the caller's thread (results are
  // still delivered through `post`). For tests that want one thread only.
  struct Inline {};
  DbWorker(std::unique_ptr<JobStore> store, Post post, Inline);
  // Applies what is queued, then joins the thread.
  ~DbWorker();
  DbWorker(const DbWorker&) = delete;
  DbWorker& operator=(const DbWorker&) = delete;

  // Any thread. `done` (optional) is posted once the transaction holding the
  // batch committed or failed. Later upserts of a job replace earlier ones,
  // later action requests of a job earlier ones; every fence is kept. When
  // a merged transaction fails on a fence (kConflict: a lease lost), its
  // writes are applied again one at a time, so `done` gets this batch's own
  // result: another write's lost lease does not fail it.
  void write(WriteBatch batch, WriteDone done = {});

  // Any thread. Runs `query` on the DB thread after every write queued before
  // it, then posts `done` with its result.
  template <class T>
  void read(std::function<Result<T>(JobStore&)> query, std::function<void(Result<T>)> done) {
    enqueue(Read{[query = std::move(query), done = std::move(done), this](JobStore& store) mutable {
      auto result = std::make_shared<Result<T>>(query(store));
      post_([done = std::move(done), result] { done(std::move(*result)); });
    }});
  }

  // Blocks until `query` ran on the DB thread; for start-up, before the
  // caller's thread serves anything. Never from a thread `post` delivers to
  // while it is needed to deliver.
  template <class T>
  Result<T> call(std::function<Result<T>(JobStore&)> query) {
    std::promise<Result<T>> promise;
    auto future = promise.get_future();
    enqueue(Read{[&](JobStore& store) { promise.set_value(query(store)); }});
    return future.get();
  }

 private:
  struct Write {
    WriteBatch batch;
    WriteDone done;
  };
  struct Read {
    std::function<void(JobStore&)> run;
  };
  using Task = std::variant<Write, Read>;

  void enqueue(Task task);
  void run();
  void apply_writes(std::deque<Task>& tasks);

  std::unique_ptr<JobStore> store_;
  Post post_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Task> tasks_;  // guarded by mutex_
  bool stopping_ = false;   // guarded by mutex_
  bool inline_ = false;     // no thread_: enqueue() runs the task
  std::thread thread_;
};

}  // namespace haul::store
