#include "daemon/queue_changes.hpp"

#include <boost/asio/post.hpp>
#include <vector>

#include "store/postgres/change_listener.hpp"
#include "store/postgres/job_change.hpp"

namespace haul::daemon {

using store::postgres::JobChange;

// What changed since the last flush.
struct QueueChanges::Pending {
  std::set<std::string> jobs;
  bool everything = false;  // a resync: reload the whole queue
  bool instances = false;
  bool manifests = false;
};

QueueChanges::QueueChanges(boost::asio::any_io_executor control, scheduler::Scheduler& scheduler,
                           const std::string& url, const std::string& node)
    : control_(std::move(control)), scheduler_(scheduler), pending_(std::make_unique<Pending>()) {
  store::postgres::ChangeListenerOptions options;
  options.url = url;
  options.ignore_node = node;
  options.application_name = "haul-listener " + node;
  listener_ = std::make_unique<store::postgres::PostgresChangeListener>(
      std::move(options), [this, alive = alive_](const JobChange& change) {
        boost::asio::post(control_, [this, alive, change] {
          if (*alive) take(change);
        });
      });
}

QueueChanges::~QueueChanges() {
  *alive_ = false;
  listener_->stop();
}

Result<void> QueueChanges::start() { return listener_->start(); }

void QueueChanges::take(const JobChange& change) {
  if (change.op == JobChange::Op::kResync) {
    pending_->everything = true;
    pending_->instances = true;
    pending_->manifests = true;
  } else if (change.kind == JobChange::Kind::kJob) {
    pending_->jobs.insert(change.id);
  } else if (change.kind == JobChange::Kind::kInstance) {
    pending_->instances = true;
  } else {
    pending_->manifests = true;
  }
  if (flush_posted_) return;
  flush_posted_ = true;
  // After the changes already posted: they join this flush.
  boost::asio::post(control_, [this, alive = alive_] {
    if (*alive) flush();
  });
}

void QueueChanges::flush() {
  flush_posted_ = false;
  Pending pending = std::move(*pending_);
  *pending_ = Pending{};
  if (pending.instances) scheduler_.reload_instances();
  if (pending.manifests && manifests_changed_) manifests_changed_();
  if (pending.everything) return scheduler_.reload_all();
  if (!pending.jobs.empty())
    scheduler_.reload_jobs(std::vector<std::string>(pending.jobs.begin(), pending.jobs.end()));
}

}  // namespace haul::daemon
