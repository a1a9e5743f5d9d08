// Asio's coroutine pieces, in an order that compiles without precompiled
// headers: Boost 1.74's awaitable.hpp uses std::exchange without including
// <utility>. Include this instead of the asio headers below.
#pragma once

// clang-format off
#include <utility>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
// clang-format on
