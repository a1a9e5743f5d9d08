// Retry delays: exponential backoff with jitter that honours a server's
// Retry-After. Pure: the caller supplies the random draw, so tests are exact.
#pragma once

#include <chrono>
#include <optional>

namespace haul {

using Millis = std::chrono::milliseconds;

struct BackoffPolicy {
  Millis initial{500};      // delay before the 2nd attempt
  double multiplier = 2.0;  // growth per further attempt
  Millis max{30'000};       // cap on the computed delay
  double jitter = 0.2;      // +-20 % spread so clients do not retry in lockstep
};

// Delay before attempt `attempt` (2 = first retry). `unit_random` is a draw in
// [0, 1). A Retry-After from the server wins over a shorter computed delay.
Millis backoff_delay(const BackoffPolicy& policy, int attempt, double unit_random,
                     std::optional<Millis> retry_after = std::nullopt);

}  // namespace haul
