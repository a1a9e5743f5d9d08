#include "api/outbox.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace haul::api {

Outbox::Outbox(asio::any_io_executor executor, std::size_t limit)
    : limit_(limit), signal_(executor) {}

void Outbox::push(Message message) {
  if (closed_) return;
  queue_.push_back(std::move(message));
  if (queue_.size() > limit_) {
    queue_.pop_front();
    ++dropped_;
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
