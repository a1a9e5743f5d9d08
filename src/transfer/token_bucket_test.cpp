#include "transfer/token_bucket.hpp"

#include <gtest/gtest.h>

namespace haul::transfer {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = TokenBucket::Clock;

const Clock::time_point kT0 = Clock::time_point{} + seconds(1000);

TEST(TokenBucket, ZeroRateIsUnlimited) {
  TokenBucket bucket(0, kT0);
  EXPECT_TRUE(bucket.unlimited());
  EXPECT_EQ(bucket.rate(), 0u);
  EXPECT_TRUE(bucket.has_tokens());
  bucket.consume(1ull << 40);
  bucket.refill(kT0 + seconds(1));
  EXPECT_TRUE(bucket.has_tokens());
  EXPECT_EQ(bucket.wait_time(), milliseconds(0));
}

TEST(TokenBucket, DefaultConstructedBucketIsUnlimited) {
  TokenBucket bucket;
  EXPECT_TRUE(bucket.unlimited());
  EXPECT_TRUE(bucket.has_tokens());
}

TEST(TokenBucket, StartsEmptyAndEarnsTokensOverTime) {
  TokenBucket bucket(100'000, kT0);
  EXPECT_FALSE(bucket.unlimited());
  EXPECT_EQ(bucket.rate(), 100'000u);
  EXPECT_FALSE(bucket.has_tokens());
  EXPECT_EQ(bucket.wait_time(), milliseconds(1)) << "one byte at 100 kB/s, rounded up";
  bucket.refill(kT0 + milliseconds(10));  // 1000 bytes
  EXPECT_TRUE(bucket.has_tokens());
  EXPECT_EQ(bucket.wait_time(), milliseconds(0));
  bucket.consume(999);
  EXPECT_TRUE(bucket.has_tokens());
  bucket.consume(1);
  EXPECT_FALSE(bucket.has_tokens()) << "exactly zero tokens is not enough";
}

TEST(TokenBucket, BurstIsATenthOfASecond) {
  TokenBucket bucket(1'000'000, kT0);
  bucket.refill(kT0 + seconds(60));  // a minute idle earns only the burst
  bucket.consume(100'000);
  EXPECT_FALSE(bucket.has_tokens());
  EXPECT_EQ(bucket.wait_time(), milliseconds(1));
}

TEST(TokenBucket, BurstIsAtLeastSixteenKiB) {
  TokenBucket bucket(1000, kT0);  // a tenth of a second would be only 100 bytes
  bucket.refill(kT0 + seconds(3600));
  bucket.consume(16 * 1024 - 1);
  EXPECT_TRUE(bucket.has_tokens());
  bucket.consume(1);
  EXPECT_FALSE(bucket.has_tokens());
}

TEST(TokenBucket, LargeConsumeLeavesDebtThatMustBeRepaid) {
  TokenBucket bucket(100'000, kT0);
  bucket.refill(kT0 + seconds(1));  // full burst: 16384 bytes
  bucket.consume(16'384 + 1'000'000);
  EXPECT_FALSE(bucket.has_tokens());
  // 1'000'000 bytes of debt plus one byte at 100 kB/s.
  EXPECT_EQ(bucket.wait_time(), milliseconds(10'001));

  bucket.refill(kT0 + seconds(6));
  EXPECT_FALSE(bucket.has_tokens());
  EXPECT_EQ(bucket.wait_time(), milliseconds(5'001));

  bucket.refill(kT0 + seconds(11));
  EXPECT_FALSE(bucket.has_tokens()) << "debt exactly repaid: zero tokens";
  bucket.refill(kT0 + seconds(11) + milliseconds(1));
  EXPECT_TRUE(bucket.has_tokens());
  EXPECT_EQ(bucket.wait_time(), milliseconds(0));
}

TEST(TokenBucket, RefillIgnoresTimeGoingBackwards) {
  TokenBucket bucket(100'000, kT0);
  bucket.refill(kT0 + seconds(1));
  bucket.consume(16'384 + 50'000);
  bucket.refill(kT0);  // earlier than the last refill: no change
  EXPECT_EQ(bucket.wait_time(), milliseconds(501));
  bucket.refill(kT0 + seconds(1));  // same instant: no change
  EXPECT_EQ(bucket.wait_time(), milliseconds(501));
  bucket.refill(kT0 + milliseconds(1250));
  EXPECT_EQ(bucket.wait_time(), milliseconds(251));
}

TEST(TokenBucket, SetRateKeepsDebtAndClampsToTheNewBurst) {
  TokenBucket bucket(10'000'000, kT0);
  bucket.refill(kT0 + seconds(1));  // 1'000'000 tokens
  bucket.set_rate(1000, kT0 + seconds(1));
  EXPECT_EQ(bucket.rate(), 1000u);
  bucket.consume(16 * 1024);  // the new burst is 16 KiB
  EXPECT_FALSE(bucket.has_tokens());

  bucket.consume(99'999);
  bucket.set_rate(200'000, kT0 + seconds(1));
  // 99'999 bytes of debt and one more byte at 200 kB/s: 500.0 ms.
  EXPECT_EQ(bucket.wait_time(), milliseconds(500));
}

TEST(TokenBucket, SetRateToZeroLiftsTheCap) {
  TokenBucket bucket(1000, kT0);
  bucket.consume(1'000'000);
  EXPECT_FALSE(bucket.has_tokens());
  bucket.set_rate(0, kT0);
  EXPECT_TRUE(bucket.unlimited());
  EXPECT_TRUE(bucket.has_tokens());
  EXPECT_EQ(bucket.wait_time(), milliseconds(0));
}

TEST(TokenBucket, SetRateRestartsTheRefillClock) {
  TokenBucket bucket(100'000, kT0);
  bucket.set_rate(100'000, kT0 + seconds(5));
  bucket.refill(kT0 + seconds(5));  // no time since set_rate: nothing earned
  EXPECT_FALSE(bucket.has_tokens());
}

TEST(TokenBucket, LongRunRateNeverExceedsTheCap) {
  constexpr std::uint64_t kRate = 100'000;
  constexpr std::uint64_t kChunk = 64 * 1024;  // bigger than the burst
  TokenBucket bucket(kRate, kT0);
  std::uint64_t total = 0;
  Clock::time_point now = kT0;
  const Clock::time_point end = kT0 + seconds(10);
  while (now < end) {
    bucket.refill(now);
    if (bucket.has_tokens()) {
      bucket.consume(kChunk);
      total += kChunk;
    } else {
      now += std::max(bucket.wait_time(), milliseconds(1));
    }
  }
  // Ten seconds at the cap, plus at most the chunk that ran into debt.
  EXPECT_LE(total, 10 * kRate + kChunk);
  EXPECT_GE(total, 10 * kRate - kChunk);
}

}  // namespace
}  // namespace haul::transfer
