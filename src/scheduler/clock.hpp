// Time for the scheduler: the wall clock (timestamps, next_attempt_at), a
// steady clock (throttling) and one wake-up (the next retry). The daemon
// uses AsioClock; the scheduler's tests a manual clock, so backoff rules are
// checked in microseconds of test time with no sleeps.
//
// Threading: control thread only; wake-ups run there.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>

#include "core/job.hpp"

namespace haul::scheduler {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual core::TimePoint now() const = 0;
  virtual std::chrono::steady_clock::time_point steady_now() const = 0;
  // Calls `wake` at `at` (or at once when it has passed), replacing any
  // earlier wake-up that has not fired.
  virtual void wake_at(core::TimePoint at, std::function<void()> wake) = 0;
  virtual void cancel_wake() = 0;
};

// The real clocks and an asio timer on the control thread's io_context.
class AsioClock final : public Clock {
 public:
  explicit AsioClock(boost::asio::io_context& io) : timer_(io) {}
  core::TimePoint now() const override { return core::Clock::now(); }
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::now();
  }
  void wake_at(core::TimePoint at, std::function<void()> wake) override;
  void cancel_wake() override { timer_.cancel(); }

 private:
  boost::asio::steady_timer timer_;
};

}  // namespace haul::scheduler
