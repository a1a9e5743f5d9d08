// Awaiting a callback-style call from a coroutine on the control thread:
//   auto result = co_await await_callback<Result<Job>>([&](auto done) { scheduler.act(id, a, done);
//   });
// A plain function, not a coroutine: GCC 12 mishandles non-trivial
// temporaries (the callable) inside a co_await expression when the callee is
// itself a coroutine, destroying them twice.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <functional>
#include <memory>

#include "api/http/coroutines.hpp"
#include "api/http/http.hpp"

namespace haul::api {

template <class T, class Start>
Awaitable<T> await_callback(asio::any_io_executor executor, Start& start) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(T)>(
      [executor, &start](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        // Always complete through post(): the callee may answer at once,
        // from inside this initiation.
        start(std::function<void(T)>([shared, executor](T value) {
          asio::post(executor,
                     [shared, value = std::move(value)]() mutable { (*shared)(std::move(value)); });
        }));
      },
      asio::use_awaitable);
}

}  // namespace haul::api
