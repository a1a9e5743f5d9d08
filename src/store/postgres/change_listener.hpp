// Receives the change notifications that the PostgresJobStores of every
// node sharing a database send at each commit (job_change.hpp), on a
// connection and a thread of its own: the database side of "one live view"
// (docs/design/cluster.md step 5). A node reloads what a change names and
// publishes it; this class only says what changed.
//
// NOTIFY is fire-and-forget: what is sent while the connection is down is
// lost. So a listener whose connection drops connects again (with backoff),
// LISTENs again and then reports a resync: the node must reload everything.
// Start the listener before the first load, so nothing committed between the
// two is missed.
//
// Threading: start(), stop() and the destructor are called by the owner,
// one at a time, never from the callback. The callback runs on the
// listener's own thread, one call at a time, in the order the changes were
// committed; it should hand the change over (the daemon posts it to its
// control thread) and return, as notifications wait while it runs. It must
// not throw.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "base/backoff.hpp"
#include "base/error.hpp"
#include "store/postgres/job_change.hpp"

namespace haul::store::postgres {

class Connection;

struct ChangeListenerOptions {
  // postgres://user[:password]@host[:port]/db, as for PostgresJobStore.
  std::string url;
  // Changes written by this node (PostgresJobStore::set_node_name) are not
  // reported: a node knows its own writes. Empty reports every change.
  std::string ignore_node;
  // Waits between attempts to connect again after the connection dropped;
  // the first attempt is immediate.
  BackoffPolicy reconnect{Millis(100), 2.0, Millis(5000), 0.2};
  // TCP keepalive: a listener sends nothing, so only probes notice a server
  // (or a network path) that vanished without closing the connection.
  int keepalive_idle_seconds = 30;
  // What pg_stat_activity shows for the listener's connection, unless the
  // URL sets application_name.
  std::string application_name = "haul-listener";
};

class PostgresChangeListener {
 public:
  using Callback = std::function<void(const JobChange&)>;

  PostgresChangeListener(ChangeListenerOptions options, Callback on_change);
  // Stops the listener (see stop()).
  ~PostgresChangeListener();
  PostgresChangeListener(const PostgresChangeListener&) = delete;
  PostgresChangeListener& operator=(const PostgresChangeListener&) = delete;

  // Connects, LISTENs and starts the listener's thread; changes committed
  // from the moment it returns are reported. Calling it while started does
  // nothing; after stop() it starts again. Errors (one line, the URL without
  // its password): those of Connection::connect when the first connection
  // fails (kInvalidArgument, kPermissionDenied, kUnavailable) or of LISTEN;
  // later losses are retried, not reported.
  Result<void> start();

  // Stops the thread and closes the connection; returns promptly, also
  // while the listener waits for a server that does not answer. No callback
  // runs once it returns. Calling it when not started does nothing.
  void stop();

  // NOTIFY messages received so far (each may name many changes), for
  // tests and metrics. Any thread.
  std::uint64_t notifications() const { return notifications_.load(std::memory_order_relaxed); }

 private:
  // The listener thread's loop: waits for input or stop(), reconnects.
  void run();
  // Connects and LISTENs; a fresh connection replaces db_.
  Result<void> listen();
  // Reports every notification read so far.
  void deliver_pending();
  void report(const JobChange& change);
  // Waits `delay` unless stop() comes first; returns whether it did not.
  bool wait_unless_stopped(Millis delay) const;

  const ChangeListenerOptions options_;
  const Callback on_change_;
  // Written by start() before the thread starts and by stop() after it
  // ended; in between only the listener thread touches them.
  std::unique_ptr<Connection> db_;
  int wake_fd_ = -1;  // an eventfd: stop() makes it readable
  std::thread thread_;
  std::atomic<std::uint64_t> notifications_{0};
};

}  // namespace haul::store::postgres
