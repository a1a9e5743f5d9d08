#include "store/postgres/change_listener.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <utility>

#include "store/postgres/connection.hpp"

namespace haul::store::postgres {

PostgresChangeListener::PostgresChangeListener(ChangeListenerOptions options, Callback on_change)
    : options_(std::move(options)), on_change_(std::move(on_change)) {}

PostgresChangeListener::~PostgresChangeListener() { stop(); }

Result<void> PostgresChangeListener::start() {
  if (thread_.joinable()) return {};
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    return fail(ErrorCode::kIo, "cannot listen for changes in " + redact_password(options_.url) +
                                    ": eventfd: " + std::strerror(errno));
  }
  // The first connection on the caller's thread, so a wrong URL or a server
  // that is down is the caller's error instead of a retry loop's.
  if (auto listening = listen(); !listening) {
    db_.reset();
    ::close(wake_fd_);
    wake_fd_ = -1;
    return listening;
  }
  thread_ = std::thread([this] { run(); });
  return {};
}

void PostgresChangeListener::stop() {
  if (!thread_.joinable()) return;
  const std::uint64_t one = 1;
  // Cannot fail short of a bad descriptor: the counter is far from its limit.
  [[maybe_unused]] const ssize_t written = ::write(wake_fd_, &one, sizeof one);
  thread_.join();
  db_.reset();
  ::close(wake_fd_);
  wake_fd_ = -1;
}

Result<void> PostgresChangeListener::listen() {
  ConnectOptions connect_options;
  connect_options.application_name = options_.application_name;
  connect_options.interrupt_fd = wake_fd_;
  connect_options.keepalive_idle_seconds = options_.keepalive_idle_seconds;
  auto connected = Connection::connect(options_.url, connect_options);
  if (!connected) return fail(connected.error());
  auto db = std::make_unique<Connection>(std::move(*connected));
  if (auto listening = db->exec_script("LISTEN " + std::string(kChangeChannel), "listen on");
      !listening) {
    return fail(listening.error());
  }
  db_ = std::move(db);
  return {};
}

void PostgresChangeListener::run() {
  std::minstd_rand random(std::random_device{}());
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  // LISTEN's own answer may have brought notifications along: libpq has
  // read them already, so poll() would not wake for them.
  deliver_pending();
  int failures = 0;  // connection attempts failed in a row
  while (true) {
    if (!db_) {
      // The first attempt at once: a server restart is over in a moment.
      if (failures > 0 &&
          !wait_unless_stopped(backoff_delay(options_.reconnect, failures + 1, unit(random))))
        return;
      auto listening = listen();
      if (!listening) {
        if (listening.error().code == ErrorCode::kCancelled) return;
        ++failures;
        continue;
      }
      failures = 0;
      // Whatever was committed while the connection was down went unheard.
      report(JobChange{JobChange::Kind::kJob, JobChange::Op::kResync, "", ""});
      deliver_pending();
    }
    pollfd fds[2] = {{db_->socket(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      db_.reset();  // cannot wait on it: start over with a fresh connection
      continue;
    }
    if ((fds[1].revents & POLLIN) != 0) return;
    if (fds[0].revents == 0) continue;
    if (auto read = db_->consume_input(); !read) {
      db_.reset();
      continue;
    }
    deliver_pending();
  }
}

void PostgresChangeListener::deliver_pending() {
  while (auto notification = db_->next_notification()) {
    notifications_.fetch_add(1, std::memory_order_relaxed);
    if (notification->channel != kChangeChannel) continue;
    auto changes = parse_change_payload(notification->payload);
    if (!changes) {
      // Written by a newer haul, say: what changed is unknown, so all may have.
      report(JobChange{JobChange::Kind::kJob, JobChange::Op::kResync, "", ""});
      continue;
    }
    for (const JobChange& change : *changes) report(change);
  }
}

void PostgresChangeListener::report(const JobChange& change) {
  if (!options_.ignore_node.empty() && change.node == options_.ignore_node) return;
  on_change_(change);
}

bool PostgresChangeListener::wait_unless_stopped(Millis delay) const {
  pollfd fd{wake_fd_, POLLIN, 0};
  const auto until = std::chrono::steady_clock::now() + delay;
  while (true) {
    const auto left =
        std::chrono::duration_cast<Millis>(until - std::chrono::steady_clock::now()).count();
    if (left <= 0) return true;
    const int ready = ::poll(&fd, 1, static_cast<int>(left));
    if (ready > 0) return false;
    if (ready < 0 && errno != EINTR) return true;
  }
}

}  // namespace haul::store::postgres
