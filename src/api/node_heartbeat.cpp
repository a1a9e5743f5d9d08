#include "api/node_heartbeat.hpp"

#include <spdlog/spdlog.h>

namespace haul::api {

struct NodeHeartbeat::Beat {
  std::size_t renewed = 0;
  std::vector<store::NodeInfo> nodes;
};

NodeHeartbeat::NodeHeartbeat(const boost::asio::any_io_executor& control, store::DbWorker& db,
                             std::string node, std::chrono::milliseconds interval,
                             std::chrono::milliseconds lease)
    : db_(db), node_(std::move(node)), interval_(interval), lease_(lease), timer_(control) {}

NodeHeartbeat::~NodeHeartbeat() {
  *alive_ = false;
  timer_.cancel();
}

void NodeHeartbeat::start() { beat(); }

void NodeHeartbeat::beat() {
  db_.read<Beat>(
      [node = node_, lease = lease_](store::JobStore& store) -> Result<Beat> {
        auto* claims = dynamic_cast<store::QueueClaims*>(&store);
        if (claims == nullptr)
          return fail(ErrorCode::kInternal, "this job store is not shared by nodes");
        auto renewed = claims->renew(node, lease);
        if (!renewed) return fail(renewed.error());
        auto nodes = claims->nodes();
        if (!nodes) return fail(nodes.error());
        return Beat{*renewed, std::move(*nodes)};
      },
      [this, alive = alive_](Result<Beat> beat) {
        if (!*alive) return;
        if (beat) {
          if (failing_) spdlog::info("node {}: heartbeat written again", node_);
          failing_ = false;
          lease_renewals_ += beat->renewed;
          nodes_ = std::move(beat->nodes);
        } else {
          ++failed_beats_;
          if (!failing_)
            spdlog::warn("node {}: cannot write its heartbeat: {}", node_, beat.error().message);
          failing_ = true;
        }
        arm();
      });
}

void NodeHeartbeat::arm() {
  timer_.expires_after(interval_);
  timer_.async_wait([this, alive = alive_](const boost::system::error_code& error) {
    if (error || !*alive) return;
    beat();
  });
}

}  // namespace haul::api
