#include "api/socketio/session_state.hpp"

namespace haul::api::socketio {

const char* transport_name(Transport transport) {
  return transport == Transport::kWebSocket ? "websocket" : "polling";
}

SessionState::SessionState(Transport initial, std::size_t max_queued)
    : max_queued_(max_queued), transport_(initial) {}

SessionState::Push SessionState::push(engine::SharedPacket packet) {
  if (closed_ || overflowed_) return Push::kDropped;
  if (queue_.size() >= max_queued_) {
    // Disconnecting beats dropping: a dropped CONNECT reply or ack would
    // leave the client waiting forever, while a disconnected client
    // reconnects and starts from fresh state.
    overflowed_ = true;
    return Push::kOverflow;
  }
  queue_.push_back(std::move(packet));
  return Push::kQueued;
}

std::vector<engine::SharedPacket> SessionState::take_all() {
  std::vector<engine::SharedPacket> packets(std::make_move_iterator(queue_.begin()),
                                            std::make_move_iterator(queue_.end()));
  queue_.clear();
  return packets;
}

bool SessionState::begin_get() {
  if (get_in_flight_ || transport_ == Transport::kWebSocket || closed_) return false;
  get_in_flight_ = true;
  return true;
}

bool SessionState::begin_post() {
  if (post_in_flight_ || closed_) return false;
  post_in_flight_ = true;
  return true;
}

bool SessionState::get_should_answer() const {
  return closed_ || !queue_.empty() || transport_ == Transport::kUpgrading ||
         transport_ == Transport::kWebSocket;
}

bool SessionState::begin_probe() {
  if (transport_ != Transport::kPolling || closed_) return false;
  transport_ = Transport::kProbing;
  return true;
}

bool SessionState::probe_received() {
  if (transport_ != Transport::kProbing) return false;
  transport_ = Transport::kUpgrading;
  return true;
}

bool SessionState::complete_upgrade() {
  if (transport_ != Transport::kUpgrading) return false;
  transport_ = Transport::kWebSocket;
  return true;
}

void SessionState::abort_upgrade() {
  if (transport_ == Transport::kProbing || transport_ == Transport::kUpgrading)
    transport_ = Transport::kPolling;
}

bool SessionState::pong_received() {
  const bool was_waiting = awaiting_pong_;
  awaiting_pong_ = false;
  return was_waiting;
}

}  // namespace haul::api::socketio
