// Token-bucket rate limiting for download speed caps. Pure: time is passed in.
// Not thread-safe; the engine's network thread owns every bucket.
#pragma once

#include <chrono>
#include <cstdint>

namespace haul::transfer {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // `bytes_per_second` 0 means unlimited.
  explicit TokenBucket(std::uint64_t bytes_per_second = 0, Clock::time_point now = Clock::now());

  void set_rate(std::uint64_t bytes_per_second, Clock::time_point now);
  std::uint64_t rate() const { return rate_; }
  bool unlimited() const { return rate_ == 0; }

  // Adds the tokens earned since the last refill, up to the burst size.
  void refill(Clock::time_point now);
  // True when a reader may take more bytes now. Debt from a large chunk must
  // be paid back first, so the long-run rate never exceeds the cap.
  bool has_tokens() const { return unlimited() || tokens_ > 0; }
  void consume(std::uint64_t bytes);
  // How long until has_tokens() turns true (zero when it is).
  std::chrono::milliseconds wait_time() const;

 private:
  std::uint64_t rate_ = 0;
  double tokens_ = 0;
  double burst_ = 0;
  Clock::time_point last_;
};

}  // namespace haul::transfer
