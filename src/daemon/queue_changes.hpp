// On a queue shared through PostgreSQL: what other nodes change reaches this
// node's scheduler, which reloads it and tells this node's clients (REST,
// WebSocket, Socket.IO, SSE, the web UI): one live view on every node.
// Notifications (store/postgres/change_listener.hpp) arrive on the
// listener's thread and are handed to the control thread, where those of a
// moment are merged into one reload: a burst of thousands of changed jobs
// costs a few reads, not thousands.
//
// Threading: constructed, started and destroyed on the control thread; the
// listener's callback only posts there.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "base/error.hpp"
#include "scheduler/scheduler.hpp"

namespace haul::store::postgres {
class PostgresChangeListener;
struct JobChange;
}  // namespace haul::store::postgres

namespace haul::daemon {

class QueueChanges {
 public:
  // `url`: the queue's postgres:// URL; changes `node` wrote are not
  // reported (its scheduler made them).
  QueueChanges(boost::asio::any_io_executor control, scheduler::Scheduler& scheduler,
               const std::string& url, const std::string& node);
  ~QueueChanges();
  QueueChanges(const QueueChanges&) = delete;
  QueueChanges& operator=(const QueueChanges&) = delete;

  // Before the scheduler loads the queue, so nothing committed in between is
  // missed. Errors: the listener's first connection's (one line, no password).
  Result<void> start();
  // Called (control thread) when another node changed the registered
  // manifests, or after changes may have been missed.
  void on_manifests_changed(std::function<void()> changed) {
    manifests_changed_ = std::move(changed);
  }

 private:
  struct Pending;
  void take(const store::postgres::JobChange& change);  // control thread
  void flush();

  boost::asio::any_io_executor control_;
  scheduler::Scheduler& scheduler_;
  std::unique_ptr<store::postgres::PostgresChangeListener> listener_;
  std::unique_ptr<Pending> pending_;
  std::function<void()> manifests_changed_;
  bool flush_posted_ = false;
  // Cleared by the destructor: a change posted before it is dropped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace haul::daemon
