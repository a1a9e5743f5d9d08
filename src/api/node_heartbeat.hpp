// This node's heartbeat on a queue shared through PostgreSQL, and the nodes
// it last saw: every `interval` it renews the leases it holds and records
// its heartbeat (store::QueueClaims::renew), then reads the nodes table, so
// /healthz, /api/v1/status (haul status --debug) and /metrics show every node,
// its heartbeat's age and the jobs it holds without a query per request.
// The first beat goes out at start().
//
// Threading: control thread; the queries run on the DB worker's thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/db_worker.hpp"
#include "store/queue_claims.hpp"

namespace haul::api {

class NodeHeartbeat {
 public:
  // The DB worker's store must implement store::QueueClaims.
  NodeHeartbeat(const boost::asio::any_io_executor& control, store::DbWorker& db, std::string node,
                std::chrono::milliseconds interval = std::chrono::seconds(5),
                std::chrono::milliseconds lease = std::chrono::seconds(15));
  ~NodeHeartbeat();
  NodeHeartbeat(const NodeHeartbeat&) = delete;
  NodeHeartbeat& operator=(const NodeHeartbeat&) = delete;

  void start();

  const std::string& node() const { return node_; }
  // The nodes table as of the last beat that could read it; empty before.
  const std::vector<store::NodeInfo>& nodes() const { return nodes_; }
  // Leases renewed by this node since it started (/metrics).
  std::uint64_t lease_renewals() const { return lease_renewals_; }
  // Beats that failed (the database unreachable, say) since it started.
  std::uint64_t failed_beats() const { return failed_beats_; }

 private:
  struct Beat;
  void beat();
  void arm();

  store::DbWorker& db_;
  std::string node_;
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds lease_;
  boost::asio::steady_timer timer_;
  std::vector<store::NodeInfo> nodes_;
  std::uint64_t lease_renewals_ = 0;
  std::uint64_t failed_beats_ = 0;
  bool failing_ = false;  // logged once per outage
  // Cleared by the destructor: a beat answered after it is dropped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace haul::api
