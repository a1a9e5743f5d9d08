#include "transfer/segment_planner.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace haul::transfer {
namespace {

constexpr std::uint64_t kMiB = 1ull << 20;
constexpr std::uint64_t kKiB = 1ull << 10;

const PlannerLimits kLimits{4 * kMiB, 64 * kKiB, 16 * kMiB};

TEST(PlanNextPiece, ReturnsNothingForEmptyInputs) {
  EXPECT_FALSE(plan_next_piece({}, {}, kLimits).has_value());
}

TEST(PlanNextPiece, IgnoresEmptyPendingRangesAndFinishedSegments) {
  std::vector<ByteRange> pending{{10, 10}, {20, 5}};
  std::vector<ActiveSegment> active{{100, 100}, {200, 50}};
  EXPECT_FALSE(plan_next_piece(pending, active, kLimits).has_value());
}

TEST(PlanNextPiece, TakesTheFrontOfTheLowestPendingRange) {
  const PlannerLimits limits{4 * kMiB, 64 * kKiB, 16 * kMiB};
  std::vector<ByteRange> pending{
      {200 * kMiB, 400 * kMiB}, {100 * kMiB, 150 * kMiB}, {300 * kMiB, 301 * kMiB}};
  auto plan = plan_next_piece(pending, {}, limits);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->piece, (ByteRange{100 * kMiB, 116 * kMiB}));
  EXPECT_EQ(plan->pending_index, 1u);
  EXPECT_FALSE(plan->split_segment.has_value());
}

TEST(PlanNextPiece, PieceEndIsAlignedWhenThePendingRangeStartsOddly) {
  const PlannerLimits limits{4 * kMiB, 64 * kKiB, 16 * kMiB};
  std::vector<ByteRange> pending{{1000, 100 * kMiB}};
  auto plan = plan_next_piece(pending, {}, limits);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->piece.begin, 1000u);
  EXPECT_EQ(plan->piece.end % (64 * kKiB), 0u);
  EXPECT_GE(plan->piece.size(), 16 * kMiB);
  EXPECT_LT(plan->piece.size(), 16 * kMiB + 64 * kKiB);
}

TEST(PlanNextPiece, ASmallRemainderGoesWithThePiece) {
  // 16 MiB piece + 3 MiB left over: below min_piece, so it is taken along.
  const PlannerLimits limits{4 * kMiB, 64 * kKiB, 16 * kMiB};
  std::vector<ByteRange> pending{{0, 19 * kMiB}};
  auto plan = plan_next_piece(pending, {}, limits);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->piece, (ByteRange{0, 19 * kMiB}));
}

TEST(PlanNextPiece, PiecesCutFromPendingMayBeSmallerThanTheSplitFloor) {
  // Pieces sized for the hasher's buffers (1 MiB) while splits of running
  // pieces stay at min_piece: a cut-off response costs what is in flight.
  const PlannerLimits limits{4 * kMiB, 64 * kKiB, 1 * kMiB};
  std::vector<ByteRange> pending{{0, 64 * kMiB}};
  auto plan = plan_next_piece(pending, {}, limits);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->piece, (ByteRange{0, 1 * kMiB}));
  std::vector<ActiveSegment> active{{0, 6 * kMiB}};
  EXPECT_FALSE(plan_next_piece({}, active, limits).has_value()) << "6 MiB left: no split";
}

TEST(PlanNextPiece, HandsOutSmallPendingRangesRegardlessOfMinPiece) {
  // min_piece limits splits only; a tiny leftover gap must still be fetched.
  std::vector<ByteRange> pending{{5, 6}};
  auto plan = plan_next_piece(pending, {}, kLimits);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->piece, (ByteRange{5, 6}));
  EXPECT_EQ(plan->pending_index, 0u);
}

TEST(PlanNextPiece, PendingBytesGoFirstEvenWhenASplitWouldBeBigger) {
  // Fetching in file order keeps the hashed prefix growing.
  std::vector<ActiveSegment> active{{0, 100 * kMiB}};
  std::vector<ByteRange> pending{{200 * kMiB, 201 * kMiB}};
  auto plan = plan_next_piece(pending, active, kLimits);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->piece, (ByteRange{200 * kMiB, 201 * kMiB}));
  EXPECT_EQ(plan->pending_index, 0u);
  EXPECT_FALSE(plan->split_segment.has_value());
}

TEST(PlanNextPiece, SplitsOnlyWhenNothingIsPending) {
  std::vector<ActiveSegment> active{{0, 100 * kMiB}};
  auto plan = plan_next_piece({}, active, kLimits);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->piece, (ByteRange{50 * kMiB, 100 * kMiB}));
  EXPECT_EQ(plan->split_segment, 0u);
  EXPECT_FALSE(plan->pending_index.has_value());
}

TEST(PlanNextPiece, SplitsTheLargestActiveTail) {
  std::vector<ActiveSegment> active{
      {0, 20 * kMiB},               // 20 MiB left
      {30 * kMiB, 35 * kMiB},       // 5 MiB left: too small to split
      {100 * kMiB, 160 * kMiB},     // 60 MiB left: the largest
      {200 * kMiB + 1, 240 * kMiB}  // 40 MiB left
  };
  auto plan = plan_next_piece({}, active, kLimits);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->split_segment, 2u);
  EXPECT_EQ(plan->piece, (ByteRange{130 * kMiB, 160 * kMiB}));
}

TEST(PlanNextPiece, SplitPointIsAlignedAndRoundsUp) {
  // Midpoint 1_000_000 + 5_000_000 = 6_000_000 is not a multiple of 64 KiB.
  std::vector<ActiveSegment> active{{1'000'000, 11'000'000}};
  auto plan = plan_next_piece({}, active, kLimits);
  ASSERT_TRUE(plan.has_value());
  const std::uint64_t expected_mid = (6'000'000 + 64 * kKiB - 1) / (64 * kKiB) * (64 * kKiB);
  EXPECT_EQ(plan->piece.begin, expected_mid);
  EXPECT_EQ(plan->piece.begin % (64 * kKiB), 0u);
  EXPECT_GE(plan->piece.begin, 6'000'000u);
  EXPECT_EQ(plan->piece.end, 11'000'000u);
}

TEST(PlanNextPiece, NeverCreatesAPieceBelowMinPiece) {
  // Exactly twice min_piece: both halves are min_piece.
  std::vector<ActiveSegment> exact{{0, 8 * kMiB}};
  auto plan = plan_next_piece({}, exact, kLimits);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->piece, (ByteRange{4 * kMiB, 8 * kMiB}));

  // One byte short of twice min_piece: no split.
  std::vector<ActiveSegment> short_by_one{{0, 8 * kMiB - 1}};
  EXPECT_FALSE(plan_next_piece({}, short_by_one, kLimits).has_value());

  // Enough bytes, but rounding the midpoint up to the alignment would leave a
  // back half below min_piece.
  const PlannerLimits coarse{4 * kMiB, 3 * kMiB};
  std::vector<ActiveSegment> unaligned{{0, 8 * kMiB}};
  // mid = align_up(4 MiB, 3 MiB) = 6 MiB -> back half 2 MiB < 4 MiB.
  EXPECT_FALSE(plan_next_piece({}, unaligned, coarse).has_value());
}

TEST(PlanNextPiece, ReturnsNothingWhenAllTailsAreSmall) {
  std::vector<ActiveSegment> active{
      {0, 3 * kMiB}, {10 * kMiB, 17 * kMiB}, {50 * kMiB, 50 * kMiB + 1}};
  EXPECT_FALSE(plan_next_piece({}, active, kLimits).has_value());
}

TEST(PlanNextPiece, FrontHalfIsNeverSmallerThanMinPiece) {
  for (std::uint64_t pos : {0ull, 1ull, 65535ull, 123'456'789ull}) {
    for (std::uint64_t len : {9 * kMiB, 9 * kMiB + 17, 1000 * kMiB + 3}) {
      std::vector<ActiveSegment> active{{pos, pos + len}};
      auto plan = plan_next_piece({}, active, kLimits);
      ASSERT_TRUE(plan.has_value()) << pos << "+" << len;
      EXPECT_GE(plan->piece.begin - pos, kLimits.min_piece);
      EXPECT_GE(plan->piece.size(), kLimits.min_piece);
      EXPECT_EQ(plan->piece.end, pos + len);
      EXPECT_EQ(plan->piece.begin % kLimits.align, 0u);
    }
  }
}

TEST(PlanNextPiece, AlignmentOfOneSplitsAtTheExactMidpoint) {
  const PlannerLimits exact{10, 1};
  std::vector<ActiveSegment> active{{100, 151}};
  auto plan = plan_next_piece({}, active, exact);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->piece, (ByteRange{125, 151}));
}

TEST(PlanNextPiece, UsesDefaultLimitsOfFourMiBAndSixtyFourKiB) {
  std::vector<ActiveSegment> just_too_small{{0, 8 * kMiB - 1}};
  EXPECT_FALSE(plan_next_piece({}, just_too_small).has_value());
  std::vector<ActiveSegment> big{{0, 16 * kMiB + 100}};
  auto plan = plan_next_piece({}, big);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->piece.begin % (64 * kKiB), 0u);
  EXPECT_EQ(plan->piece.begin, 8 * kMiB + 64 * kKiB);
}

}  // namespace
}  // namespace haul::transfer
