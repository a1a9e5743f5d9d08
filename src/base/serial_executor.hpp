// One worker thread that runs posted tasks in order. The disk side of the
// transfer engine uses a few of these so that blocking calls (pwrite,
// fdatasync, hashing) never run on the network thread. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace haul {

class SerialExecutor {
 public:
  explicit SerialExecutor(std::string name);
  // Runs the tasks already posted, then joins.
  ~SerialExecutor();
  SerialExecutor(const SerialExecutor&) = delete;
  SerialExecutor& operator=(const SerialExecutor&) = delete;

  // Queues `task`; tasks run one at a time, in posting order.
  void post(std::function<void()> task);
  // Blocks until every task posted before this call has run. Not from the worker.
  void drain();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;  // guarded by mutex_
  bool stopping_ = false;                    // guarded by mutex_
  std::string name_;
  std::thread thread_;
};

}  // namespace haul
