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
    : db_(db),
      node_(std::move(node)),
      interval_(interval),
      lease_(lease),
      timer_(control),
      alive_(std::make_shared<NodeHeartbeat*>(this)) {}

NodeHeartbeat::~NodeHeartbeat() {
  *alive_ = nullptr;
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
      [alive = alive_](Result<Beat> beat) {
        NodeHeartbeat* self = *alive;
        if (self == nullptr) return;
        if (beat) {
          if (self->failing_) spdlog::info("node {}: heartbeat written again", self->node_);
          self->failing_ = false;
          self->lease_renewals_ += beat->renewed;
          self->nodes_ = std::move(beat->nodes);
        } else {
          ++self->failed_beats_;
          if (!self->failing_)
            spdlog::warn("node {}: cannot write its heartbeat: {}", self->node_,
                         beat.error().message);
          self->failing_ = true;
        }
        self->arm();
      });
}

void NodeHeartbeat::arm() {
  timer_.expires_after(interval_);
  timer_.async_wait([alive = alive_](const boost::system::error_code& error) {
    if (error || *alive == nullptr) return;
    (*alive)->beat();
  });
}

}  // namespace haul::api
