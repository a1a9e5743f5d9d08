#include "base/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace haul {

Millis backoff_delay(const BackoffPolicy& policy, int attempt, double unit_random,
                     std::optional<Millis> retry_after) {
  const int exponent = std::max(0, attempt - 2);
  double delay =
      static_cast<double>(policy.initial.count()) * std::pow(policy.multiplier, exponent);
  delay = std::min(delay, static_cast<double>(policy.max.count()));
  // Map the draw onto [1 - jitter, 1 + jitter).
  const double factor = 1.0 + policy.jitter * (2.0 * std::clamp(unit_random, 0.0, 1.0) - 1.0);
  auto computed = Millis(static_cast<long long>(std::llround(delay * factor)));
  if (retry_after && *retry_after > computed) return *retry_after;
  return computed;
}

}  // namespace haul
