#include "transfer/byte_range.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace haul::transfer {
namespace {

using Ranges = std::vector<ByteRange>;

TEST(ByteRange, SizeAndEmptyTreatInvertedRangesAsEmpty) {
  EXPECT_EQ((ByteRange{10, 25}).size(), 15u);
  EXPECT_FALSE((ByteRange{10, 25}).empty());
  EXPECT_EQ((ByteRange{7, 7}).size(), 0u);
  EXPECT_TRUE((ByteRange{7, 7}).empty());
  EXPECT_EQ((ByteRange{9, 3}).size(), 0u);
  EXPECT_TRUE((ByteRange{9, 3}).empty());
}

TEST(RangeSet, StartsEmpty) {
  RangeSet set;
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.covered(), 0u);
  EXPECT_FALSE(set.contains(0));
  EXPECT_EQ(set.contiguous_end(), 0u);
  EXPECT_EQ(set.missing(100), (Ranges{{0, 100}}));
}

TEST(RangeSet, IgnoresEmptyAndInvertedRanges) {
  RangeSet set;
  set.add({5, 5});
  set.add({9, 2});
  EXPECT_TRUE(set.empty());
}

TEST(RangeSet, KeepsDisjointRangesSorted) {
  RangeSet set;
  set.add({50, 60});
  set.add({0, 10});
  set.add({20, 30});
  EXPECT_EQ(set.ranges(), (Ranges{{0, 10}, {20, 30}, {50, 60}}));
  EXPECT_EQ(set.covered(), 30u);
}

TEST(RangeSet, MergesAdjacentRangesOnBothSides) {
  RangeSet set;
  set.add({0, 10});
  set.add({20, 30});
  set.add({10, 20});  // touches the end of one and the start of the other
  EXPECT_EQ(set.ranges(), (Ranges{{0, 30}}));

  set.add({30, 40});  // adjacent after
  EXPECT_EQ(set.ranges(), (Ranges{{0, 40}}));
  RangeSet before;
  before.add({10, 20});
  before.add({5, 10});  // adjacent before
  EXPECT_EQ(before.ranges(), (Ranges{{5, 20}}));
}

TEST(RangeSet, MergesOverlappingRanges) {
  RangeSet set;
  set.add({0, 10});
  set.add({5, 15});
  EXPECT_EQ(set.ranges(), (Ranges{{0, 15}}));
  set.add({12, 13});  // fully inside: no change
  EXPECT_EQ(set.ranges(), (Ranges{{0, 15}}));
  set.add({20, 30});
  set.add({40, 50});
  set.add({25, 45});  // bridges two ranges, absorbs neither fully from the left
  EXPECT_EQ(set.ranges(), (Ranges{{0, 15}, {20, 50}}));
  set.add({0, 100});  // swallows everything
  EXPECT_EQ(set.ranges(), (Ranges{{0, 100}}));
  EXPECT_EQ(set.covered(), 100u);
}

TEST(RangeSet, DoesNotMergeRangesWithAOneByteGap) {
  RangeSet set;
  set.add({0, 10});
  set.add({11, 20});
  EXPECT_EQ(set.ranges(), (Ranges{{0, 10}, {11, 20}}));
  EXPECT_EQ(set.covered(), 19u);
}

TEST(RangeSet, ConstructorMergesLikeAdd) {
  RangeSet set(Ranges{{30, 40}, {0, 10}, {10, 20}, {35, 45}, {7, 7}});
  EXPECT_EQ(set.ranges(), (Ranges{{0, 20}, {30, 45}}));
  RangeSet same;
  same.add({0, 20});
  same.add({30, 45});
  EXPECT_EQ(set, same);
}

TEST(RangeSet, ContainsIsHalfOpen) {
  RangeSet set(Ranges{{10, 20}, {30, 40}});
  EXPECT_FALSE(set.contains(9));
  EXPECT_TRUE(set.contains(10));
  EXPECT_TRUE(set.contains(19));
  EXPECT_FALSE(set.contains(20));
  EXPECT_FALSE(set.contains(29));
  EXPECT_TRUE(set.contains(30));
  EXPECT_TRUE(set.contains(39));
  EXPECT_FALSE(set.contains(40));
  EXPECT_FALSE(set.contains(UINT64_MAX));
}

TEST(RangeSet, ContiguousEndFollowsTheRangeContainingFrom) {
  RangeSet set(Ranges{{0, 100}, {150, 200}});
  EXPECT_EQ(set.contiguous_end(), 100u);
  EXPECT_EQ(set.contiguous_end(0), 100u);
  EXPECT_EQ(set.contiguous_end(42), 100u);
  EXPECT_EQ(set.contiguous_end(100), 100u);  // not covered: from itself
  EXPECT_EQ(set.contiguous_end(120), 120u);
  EXPECT_EQ(set.contiguous_end(150), 200u);
  EXPECT_EQ(set.contiguous_end(199), 200u);
  EXPECT_EQ(set.contiguous_end(500), 500u);

  RangeSet late(Ranges{{10, 20}});
  EXPECT_EQ(late.contiguous_end(), 0u);  // byte 0 missing
}

TEST(RangeSet, MissingListsTheGapsUpToSize) {
  RangeSet set(Ranges{{10, 20}, {30, 40}});
  EXPECT_EQ(set.missing(50), (Ranges{{0, 10}, {20, 30}, {40, 50}}));
  EXPECT_EQ(set.missing(40), (Ranges{{0, 10}, {20, 30}}));
  EXPECT_EQ(set.missing(35), (Ranges{{0, 10}, {20, 30}}));
  EXPECT_EQ(set.missing(15), (Ranges{{0, 10}}));
  EXPECT_EQ(set.missing(0), Ranges{});
}

TEST(RangeSet, MissingIsEmptyWhenFullyCovered) {
  RangeSet set(Ranges{{0, 64}});
  EXPECT_EQ(set.missing(64), Ranges{});
  EXPECT_EQ(set.missing(10), Ranges{});
  EXPECT_EQ(set.missing(65), (Ranges{{64, 65}}));
}

TEST(RangeSet, MissingInClipsToTheWindow) {
  RangeSet set(Ranges{{10, 20}, {30, 40}, {60, 70}});
  EXPECT_EQ(set.missing_in({15, 65}), (Ranges{{20, 30}, {40, 60}}));
  EXPECT_EQ(set.missing_in({0, 12}), (Ranges{{0, 10}}));
  EXPECT_EQ(set.missing_in({12, 18}), Ranges{});
  EXPECT_EQ(set.missing_in({20, 30}), (Ranges{{20, 30}}));
  EXPECT_EQ(set.missing_in({45, 55}), (Ranges{{45, 55}}));
  EXPECT_EQ(set.missing_in({65, 100}), (Ranges{{70, 100}}));
  EXPECT_EQ(set.missing_in({25, 25}), Ranges{});
  EXPECT_EQ(set.missing_in({50, 40}), Ranges{});
}

TEST(RangeSet, GapsAndCoveredPartitionTheFile) {
  RangeSet set;
  for (std::uint64_t i = 0; i < 50; ++i) set.add({i * 37 % 1000, i * 37 % 1000 + 13});
  std::uint64_t gap_bytes = 0;
  for (const ByteRange& gap : set.missing(1100)) {
    gap_bytes += gap.size();
    EXPECT_FALSE(set.contains(gap.begin));
    EXPECT_FALSE(set.contains(gap.end - 1));
  }
  EXPECT_EQ(gap_bytes + set.covered(), 1100u);
  for (std::size_t i = 1; i < set.ranges().size(); ++i) {
    EXPECT_LT(set.ranges()[i - 1].end, set.ranges()[i].begin)
        << "ranges must stay disjoint and non-adjacent";
  }
}

TEST(RangeSet, ClearEmptiesTheSet) {
  RangeSet set(Ranges{{0, 10}});
  set.clear();
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.covered(), 0u);
}

}  // namespace
}  // namespace haul::transfer
