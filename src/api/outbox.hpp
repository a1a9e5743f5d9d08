// A per-subscriber queue of encoded events with an awaitable "next".
// Entries are encoded once and shared by every subscriber. A client
// that falls more than `limit` messages behind loses its oldest progress
// entries (a newer one says more); state changes are never dropped, but a
// client twice the limit behind on them alone is closed.
// Control thread only.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "api/http/http.hpp"

namespace haul::api {

// One event of the download channel, encoded for each kind of subscriber.
struct FeedEntry {
  std::uint64_t id = 0;
  std::string type;  // progress | complete | failed | cancelled
  std::string json;  // the WebSocket message
  std::string sse;   // "id: ..\nevent: ..\ndata: ..\n\n"
};
using Message = std::shared_ptr<const FeedEntry>;

class Outbox {
 public:
  Outbox(const asio::any_io_executor& executor, std::size_t limit);

  void push(Message message);
  // The next message; nullopt after close() once the queue is empty, or
  // when `timeout` passes with nothing to send (callers send keep-alives).
  Awaitable<std::optional<Message>> next(std::chrono::milliseconds timeout);
  void close();
  bool closed() const { return closed_; }
  std::size_t dropped() const { return dropped_; }

 private:
  std::deque<Message> queue_;
  std::size_t limit_;
  std::size_t dropped_ = 0;
  bool closed_ = false;
  asio::steady_timer signal_;
};

}  // namespace haul::api
