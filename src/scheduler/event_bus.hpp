// In-process fan-out of job events: every change the scheduler makes is
// published here once; WebSocket, Socket.IO and SSE sessions subscribe.
// Keeps the newest events in a ring for SSE Last-Event-ID replay.
// Control thread only (no locks).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <vector>

#include "core/event.hpp"

namespace haul::scheduler {

class EventBus {
 public:
  using Listener = std::function<void(const core::Event&)>;

  // `first_id`: ids continue after this (the last id stored before a restart).
  explicit EventBus(std::uint64_t first_id = 0, std::size_t ring_capacity = 4096);

  // Returns a handle for unsubscribe(). Listeners must not unsubscribe others
  // from inside a callback; unsubscribing themselves is fine.
  std::uint64_t subscribe(Listener listener);
  void unsubscribe(std::uint64_t handle);

  // Nodes sharing a queue: ids from the wall clock from now on (ms x 1000,
  // then +1 while that is not more than the last), so events of every node
  // are numbered on one scale and an SSE client moving between nodes
  // resumes about where it left off. Below 2^53: exact in JavaScript.
  void use_clock_ids() { clock_ids_ = true; }

  // Assigns the next id, remembers the event and calls every listener.
  const core::Event& publish(core::EventType type, const core::Job& job, bool relayed = false);

  // The install channel: progress of remote commands, to its own listeners.
  using InstallListener = std::function<void(const core::InstallProgress&)>;
  std::uint64_t subscribe_install(InstallListener listener);
  void unsubscribe_install(std::uint64_t handle);
  void publish_install(const core::InstallProgress& progress);

  // Events newer than `after` still in the ring, oldest first; `complete` is
  // false when older ones were already dropped.
  std::vector<core::Event> since(std::uint64_t after, bool* complete = nullptr) const;
  std::uint64_t last_id() const { return next_id_ - 1; }

 private:
  std::uint64_t next_id_;
  bool clock_ids_ = false;
  std::size_t capacity_;
  std::deque<core::Event> ring_;
  std::map<std::uint64_t, Listener> listeners_;
  std::map<std::uint64_t, InstallListener> install_listeners_;
  std::uint64_t next_handle_ = 1;
};

}  // namespace haul::scheduler
