#include "base/backoff.hpp"

#include <gtest/gtest.h>

namespace haul {
namespace {

const BackoffPolicy kPolicy{Millis(500), 2.0, Millis(8000), 0.2};

TEST(Backoff, GrowsExponentiallyFromTheInitialDelay) {
  // A draw of 0.5 means no jitter.
  EXPECT_EQ(backoff_delay(kPolicy, 2, 0.5), Millis(500));
  EXPECT_EQ(backoff_delay(kPolicy, 3, 0.5), Millis(1000));
  EXPECT_EQ(backoff_delay(kPolicy, 4, 0.5), Millis(2000));
  EXPECT_EQ(backoff_delay(kPolicy, 5, 0.5), Millis(4000));
}

TEST(Backoff, IsCappedAtTheMaximum) {
  EXPECT_EQ(backoff_delay(kPolicy, 6, 0.5), Millis(8000));
  EXPECT_EQ(backoff_delay(kPolicy, 60, 0.5), Millis(8000));
}

TEST(Backoff, JitterSpreadsDelaysSymmetrically) {
  EXPECT_EQ(backoff_delay(kPolicy, 3, 0.0), Millis(800));
  EXPECT_EQ(backoff_delay(kPolicy, 3, 1.0), Millis(1200));
  EXPECT_EQ(backoff_delay(kPolicy, 3, 0.25), Millis(900));
}

TEST(Backoff, RetryAfterWinsWhenLonger) {
  EXPECT_EQ(backoff_delay(kPolicy, 2, 0.5, Millis(3000)), Millis(3000));
  EXPECT_EQ(backoff_delay(kPolicy, 5, 0.5, Millis(100)), Millis(4000));
}

}  // namespace
}  // namespace haul
