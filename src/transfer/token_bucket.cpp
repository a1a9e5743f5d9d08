#include "transfer/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace haul::transfer {

TokenBucket::TokenBucket(std::uint64_t bytes_per_second, Clock::time_point now) {
  set_rate(bytes_per_second, now);
}

void TokenBucket::set_rate(std::uint64_t bytes_per_second, Clock::time_point now) {
  rate_ = bytes_per_second;
  // A tenth of a second of burst keeps the pacing smooth; 16 KiB keeps tiny
  // caps from stalling on a single read.
  burst_ = std::max(static_cast<double>(rate_) / 10.0, 16.0 * 1024);
  tokens_ = std::min(tokens_, burst_);
  last_ = now;
}

void TokenBucket::refill(Clock::time_point now) {
  if (unlimited() || now <= last_) return;
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * static_cast<double>(rate_));
  last_ = now;
}

void TokenBucket::consume(std::uint64_t bytes) {
  if (!unlimited()) tokens_ -= static_cast<double>(bytes);
}

std::chrono::milliseconds TokenBucket::wait_time() const {
  if (has_tokens()) return std::chrono::milliseconds(0);
  const double seconds = (-tokens_ + 1.0) / static_cast<double>(rate_);
  return std::chrono::milliseconds(static_cast<long long>(std::ceil(seconds * 1000.0)));
}

}  // namespace haul::transfer
