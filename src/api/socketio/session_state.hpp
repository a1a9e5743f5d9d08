// The per-client Engine.IO bookkeeping that needs no socket: the bounded
// outgoing queue, which transport carries it (polling, the WebSocket upgrade
// steps, WebSocket), the one-GET-and-one-POST-in-flight rule and the
// heartbeat's pong flag. Session (engine.hpp) drives it on the control
// thread; this class is plain data so the rules can be unit tested.
#pragma once

#include <cstddef>
#include <deque>
#include <vector>

#include "api/socketio/engine_packet.hpp"

namespace haul::api::socketio {

enum class Transport {
  kPolling,    // HTTP long-polling
  kProbing,    // polling, and a WebSocket with our sid is open but not probed yet
  kUpgrading,  // "2probe" answered: polling GETs answer at once (noop) so the client pauses
  kWebSocket,  // "5" received: everything goes over the WebSocket
};

const char* transport_name(Transport transport);

class SessionState {
 public:
  // `max_queued`: packets waiting for the client beyond this mean it is too
  // slow; the session is then closed (see push()).
  SessionState(Transport initial, std::size_t max_queued);

  enum class Push {
    kQueued,
    kOverflow,  // this packet passed the bound: the caller closes the session (the packet is
                // dropped)
    kDropped,   // closed or already overflowed: ignored
  };
  Push push(engine::SharedPacket packet);
  // Everything queued, oldest first; the queue is empty afterwards.
  std::vector<engine::SharedPacket> take_all();
  bool has_queued() const { return !queue_.empty(); }
  std::size_t queued() const { return queue_.size(); }

  // A polling GET may start: false when one is already waiting or the session
  // moved to WebSocket (the server answers 400).
  bool begin_get();
  void end_get() { get_in_flight_ = false; }
  bool begin_post();
  void end_post() { post_in_flight_ = false; }
  // A waiting polling GET answers now rather than later: something is queued,
  // the session closed, or an upgrade needs the polling transport paused.
  bool get_should_answer() const;

  Transport transport() const { return transport_; }
  // A WebSocket carrying our sid opened: kPolling -> kProbing. False otherwise
  // (a second upgrade attempt is refused).
  bool begin_probe();
  // "2probe" over that WebSocket: kProbing -> kUpgrading.
  bool probe_received();
  // "5" over that WebSocket: kUpgrading -> kWebSocket.
  bool complete_upgrade();
  // The probe WebSocket failed or timed out: back to kPolling.
  void abort_upgrade();

  // Heartbeat: the server sent "2" and waits for "3".
  void ping_sent() { awaiting_pong_ = true; }
  // Returns whether a ping was waiting for this pong.
  bool pong_received();
  bool awaiting_pong() const { return awaiting_pong_; }

  void close() { closed_ = true; }
  bool closed() const { return closed_; }
  bool overflowed() const { return overflowed_; }

 private:
  std::deque<engine::SharedPacket> queue_;
  std::size_t max_queued_;
  Transport transport_;
  bool get_in_flight_ = false;
  bool post_in_flight_ = false;
  bool awaiting_pong_ = false;
  bool overflowed_ = false;
  bool closed_ = false;
};

}  // namespace haul::api::socketio
