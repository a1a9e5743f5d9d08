// Byte ranges and sets of them: which parts of a file are downloaded,
// written or still missing. Pure values, no I/O, not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

namespace haul::transfer {

// Half-open range [begin, end) of byte offsets.
struct ByteRange {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;

  std::uint64_t size() const { return end > begin ? end - begin : 0; }
  bool empty() const { return end <= begin; }
  friend bool operator==(const ByteRange&, const ByteRange&) = default;
};

// A set of disjoint, non-adjacent ranges kept sorted; adding merges.
class RangeSet {
 public:
  RangeSet() = default;
  explicit RangeSet(const std::vector<ByteRange>& ranges);

  void add(ByteRange range);
  void clear() { ranges_.clear(); }

  bool contains(std::uint64_t offset) const;
  // Bytes covered by the set.
  std::uint64_t covered() const;
  // End of the range that starts at `from`, or `from` when `from` is not covered.
  std::uint64_t contiguous_end(std::uint64_t from = 0) const;
  // The gaps of the set within [0, size).
  std::vector<ByteRange> missing(std::uint64_t size) const;
  // The gaps of the set within `window`.
  std::vector<ByteRange> missing_in(ByteRange window) const;

  const std::vector<ByteRange>& ranges() const { return ranges_; }
  bool empty() const { return ranges_.empty(); }
  friend bool operator==(const RangeSet&, const RangeSet&) = default;

 private:
  std::vector<ByteRange> ranges_;
};

}  // namespace haul::transfer
