#include "api/outbox.hpp"

#include <algorithm>

#include "api/http/coroutines.hpp"

namespace haul::api {

Outbox::Outbox(const asio::any_io_executor& executor, std::size_t limit)
    : limit_(limit), signal_(executor) {}

void Outbox::push(Message message) {
  if (closed_) return;
  queue_.push_back(std::move(message));
  if (queue_.size() > limit_) {
    // Drop the oldest progress entry: a later one for the same job says more.
    // State changes (complete, failed, ...) are kept, whatever the backlog.
    auto progress = std::find_if(queue_.begin(), queue_.end(),
                                 [](const Message& m) { return m->type == "progress"; });
    if (progress != queue_.end()) {
      queue_.erase(progress);
      ++dropped_;
    } else if (queue_.size() > 2 * limit_) {
      // Twice the limit of state changes alone: the client is not reading.
      // Closing ends its session; it reconnects and replays (SSE) or re-lists.
      dropped_ += queue_.size();
      queue_.clear();
      closed_ = true;
    }
  }
  signal_.cancel();  // wakes a waiting next()
}

void Outbox::close() {
  closed_ = true;
  signal_.cancel();
}

Awaitable<std::optional<Message>> Outbox::next(std::chrono::milliseconds timeout) {
  if (queue_.empty() && !closed_) {
    signal_.expires_after(timeout);
    boost::system::error_code ec;
    co_await signal_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (queue_.empty()) co_return std::nullopt;
  Message message = std::move(queue_.front());
  queue_.pop_front();
  co_return message;
}

}  // namespace haul::api
